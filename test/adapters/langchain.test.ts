import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AIMessage, AIMessageChunk, HumanMessage, SystemMessage, ToolMessage, type BaseMessage } from "@langchain/core/messages";
import { ChatPromptTemplate, MessagesPlaceholder } from "@langchain/core/prompts";
import { RunnableLambda, RunnableWithMessageHistory } from "@langchain/core/runnables";
import { FakeListChatModel, FakeStreamingChatModel } from "@langchain/core/utils/testing";
import { OpenclawChatMessageHistory } from "../../src/adapters/langchain/index.js";
import { isSummaryNote } from "../../src/context/build.js";
import { openTestManager } from "../helpers/manager-open.js";
import { assertPairsTogether, exportedMessages, FILLER, PRUNING_CONFIG, requestTokens, textOf, type Sent } from "./_checks.js";

const sentOf = (messages: readonly BaseMessage[]): Sent[] =>
  messages.map((m) => {
    const calls = AIMessage.isInstance(m) ? (m.tool_calls ?? []) : [];
    const role = { human: "user", ai: "assistant", system: "system", tool: "tool" }[m.type as string] ?? m.type;
    return {
      role,
      content: textOf(m.content),
      callIds: calls.map((c) => c.id ?? ""),
      ...(calls[0] !== undefined ? { callName: calls[0].name, callArgs: JSON.stringify(calls[0].args) } : {}),
      ...(ToolMessage.isInstance(m) ? { toolCallId: m.tool_call_id } : {}),
    };
  });

/** [type, text] of a message, with call ids for AI tool calls and the answered id for tool messages. */
function brief(m: BaseMessage): string[] {
  if (AIMessage.isInstance(m) && (m.tool_calls?.length ?? 0) > 0) return ["ai", textOf(m.content), ...(m.tool_calls ?? []).map((c) => `${c.id}:${c.name}:${JSON.stringify(c.args)}`)];
  if (ToolMessage.isInstance(m)) return ["tool", textOf(m.content), m.tool_call_id];
  return [m.type, textOf(m.content)];
}

describe("langchain adapter: RunnableWithMessageHistory on an openclaw session", () => {
  it("a long conversation with tool calls stays within the window, keeps each call with its result and loses no message", async () => {
    const t = await openTestManager({ config: PRUNING_CONFIG });
    try {
      const received: BaseMessage[][] = [];
      // The fake models of @langchain/core answer; this picks which reply a turn gets.
      const model = RunnableLambda.from(async (prompt: { toChatMessages(): BaseMessage[] }) => {
        const messages = prompt.toChatMessages();
        received.push(messages);
        const last = messages.at(-1);
        const order = last !== undefined && HumanMessage.isInstance(last) ? /^CALL lookup (ORD-\d+)$/.exec(textOf(last.content))?.[1] : undefined;
        if (order !== undefined) {
          const call = new AIMessageChunk({ content: "", tool_calls: [{ type: "tool_call", id: `call_${order}`, name: "lookup", args: { order } }] });
          return new FakeStreamingChatModel({ responses: [new AIMessage("")], chunks: [call] }).invoke(messages);
        }
        const text = last !== undefined && ToolMessage.isInstance(last) ? `tool said: ${textOf(last.content)}` : `echo: ${textOf(last?.content)}`;
        return new FakeListChatModel({ responses: [text] }).invoke(messages);
      });
      const prompt = ChatPromptTemplate.fromMessages([["system", "Be terse."], new MessagesPlaceholder("history"), new MessagesPlaceholder("input")]);
      const chain = new RunnableWithMessageHistory({
        runnable: prompt.pipe(model),
        getMessageHistory: (sessionId: string) => new OpenclawChatMessageHistory(t.manager, { inbound: { channel: "web", senderId: sessionId } }),
        inputMessagesKey: "input",
        historyMessagesKey: "history",
      });
      const config = { configurable: { sessionId: "u7" } };
      const said: string[] = [];
      const replies: string[] = [];
      const callIds: string[] = [];
      for (let turn = 1; turn <= 14; turn++) {
        const text = turn % 4 === 3 ? `CALL lookup ORD-${turn}` : `turn ${turn}: ${FILLER} ${FILLER}`;
        said.push(text);
        const answer = (await chain.invoke({ input: [new HumanMessage(text)] }, config)) as AIMessage;
        const call = answer.tool_calls?.[0];
        if (call === undefined) {
          replies.push(textOf(answer.content));
          continue;
        }
        callIds.push(call.id ?? "");
        const output = new ToolMessage({ content: `order ${String(call.args.order)} shipped`, tool_call_id: call.id ?? "" });
        const final = (await chain.invoke({ input: [output] }, config)) as AIMessage;
        replies.push(textOf(final.content));
      }
      assert.deepEqual(callIds, ["call_ORD-3", "call_ORD-7", "call_ORD-11"]);
      assert.equal(replies[2], "tool said: order ORD-3 shipped");

      assert.equal(received.length, 14 + 3);
      const { window, budget } = await t.manager.window();
      let withSummary = 0;
      for (const [i, messages] of received.entries()) {
        const sent = sentOf(messages);
        assert.ok((await requestTokens(sent)) <= window, `model call ${i} fits the ${window}-token window`);
        assert.ok(sent.filter((m) => m.role !== "system").length <= PRUNING_CONFIG.sessions.maxHistoryLength + 1, `model call ${i} holds the kept turns plus the new message only`);
        assertPairsTogether(sent, `model call ${i}`);
        if (sent.some((m) => m.role === "system" && isSummaryNote(m.content))) withSummary++;
      }
      assert.ok(withSummary > 0, "folded turns reach the model as the summary note");

      const history = new OpenclawChatMessageHistory(t.manager, { inbound: { channel: "web", senderId: "u7" } });
      const id = await history.getSessionId();
      const stored = exportedMessages(await t.manager.exportSessions([id]));
      assert.ok(stored.reduce((n, m) => n + m.tokens, 0) > budget, "the conversation outgrew the budget, so pruning was needed");
      assert.deepEqual(
        stored.filter((m) => m.role === "user").map((m) => m.content),
        said,
        "every human message is in the export, once",
      );
      assert.deepEqual(
        stored.filter((m) => m.role === "assistant" && m.content !== "").map((m) => m.content),
        replies,
        "every reply is in the export, once",
      );
      assert.deepEqual(
        stored.flatMap((m) => (m.toolCalls ?? []).map((c) => c.id)),
        callIds,
      );
      assert.deepEqual(
        stored.flatMap((m) => (m.toolCallId !== undefined ? [m.toolCallId] : [])),
        callIds,
        "each result is stored once, under its call's id",
      );
      assert.equal(stored.filter((m) => m.role === "user")[0]?.sender, "u7");
    } finally {
      await t.cleanup();
    }
  });
});

describe("langchain adapter: the chat message history", () => {
  const open = async () => {
    const t = await openTestManager();
    const created = await t.manager.create({ key: "dm:web:u8" });
    return { ...t, sessionId: created.id, history: new OpenclawChatMessageHistory(t.manager, { ref: created.id }) };
  };

  it("AI tool calls and tool messages round-trip with their ids and arguments", async () => {
    const t = await open();
    try {
      await t.history.addMessages([
        new HumanMessage({ content: "where is ORD-1?", id: "h1" }),
        new AIMessage({ content: "", id: "a1", tool_calls: [{ type: "tool_call", id: "call_1", name: "lookup", args: { order: "ORD-1", urgent: true } }] }),
        new ToolMessage({ content: "shipped", tool_call_id: "call_1", id: "t1" }),
        new AIMessage({ content: [{ type: "text", text: "It shipped." }], id: "a2" }),
      ]);
      const messages = await t.history.getMessages();
      assert.deepEqual(messages.map(brief), [
        ["human", "where is ORD-1?"],
        ["ai", "", 'call_1:lookup:{"order":"ORD-1","urgent":true}'],
        ["tool", "shipped", "call_1"],
        ["ai", "It shipped."],
      ]);
      assert.deepEqual(
        messages.map((m) => m.id),
        ["h1", "a1", "t1", "a2"],
      );
      assert.deepEqual(
        (await t.manager.get(t.sessionId)).messages.map((m) => m.role),
        ["user", "assistant", "tool", "assistant"],
      );
    } finally {
      await t.cleanup();
    }
  });

  it("adding the same messages again stores nothing twice", async () => {
    const t = await open();
    try {
      const batch = [
        new HumanMessage({ content: "hi", id: "h1" }),
        new AIMessage({ content: "", tool_calls: [{ type: "tool_call", id: "call_2", name: "lookup", args: {} }] }),
        new ToolMessage({ content: "ok", tool_call_id: "call_2" }),
      ];
      await t.history.addMessages(batch);
      await t.history.addMessages(batch);
      assert.equal((await t.manager.history(t.sessionId)).length, 3);
    } finally {
      await t.cleanup();
    }
  });

  it("addUserMessage, addAIMessage and clear; the system prompt stays and comes first", async () => {
    const t = await open();
    try {
      await t.manager.setSystemPrompt(t.sessionId, "You are a concise assistant.");
      await t.history.addUserMessage("hello");
      await t.history.addAIMessage("hi there");
      assert.deepEqual((await t.history.getMessages()).map(brief), [
        ["system", "You are a concise assistant."],
        ["human", "hello"],
        ["ai", "hi there"],
      ]);
      assert.ok((await t.history.getMessages())[0] instanceof SystemMessage);
      await t.history.clear();
      assert.deepEqual((await t.history.getMessages()).map(brief), [["system", "You are a concise assistant."]]);
      assert.deepEqual(await t.manager.history(t.sessionId), []);
    } finally {
      await t.cleanup();
    }
  });

  it("refuses what it cannot keep before writing anything", async () => {
    const t = await open();
    try {
      const image = new HumanMessage({ content: [{ type: "image_url", image_url: { url: "https://example.invalid/a.png" } }] });
      await assert.rejects(t.history.addMessages([new HumanMessage("first"), image]), { code: "INVALID_ARGUMENT", message: /messages\[1\]\.content\[0\]: a content block of type "image_url"/ });
      const anonymous = new AIMessage({ content: "", tool_calls: [{ type: "tool_call", name: "lookup", args: {} }] });
      await assert.rejects(t.history.addMessage(anonymous), { code: "INVALID_ARGUMENT", message: /without an id/ });
      assert.deepEqual(await t.history.getMessages(), []);
    } finally {
      await t.cleanup();
    }
  });
});
