// Upstreams that reuse response ids (Ollama draws them from 0–998, some send a constant)
// must not make the adapters take a new reply for one already stored.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Agent, run, setTracingDisabled, tool, type AgentInputItem } from "@openai/agents-core";
import { OpenAIChatCompletionsModel } from "@openai/agents-openai";
import { AIMessage, HumanMessage, ToolMessage, type BaseMessage } from "@langchain/core/messages";
import { ChatPromptTemplate, MessagesPlaceholder } from "@langchain/core/prompts";
import { RunnableLambda, RunnableWithMessageHistory } from "@langchain/core/runnables";
import OpenAI from "openai";
import { OpenclawAgentsSession } from "../../src/adapters/agents/index.js";
import { OpenclawChatMessageHistory } from "../../src/adapters/langchain/index.js";
import type { SessionManager } from "../../src/manager/manager.js";
import { prng } from "../helpers/context-fixtures.js";
import { startFakeUpstream, type FakeUpstream } from "../helpers/fake-upstream.js";
import { openTestManager } from "../helpers/manager-open.js";
import { textOf } from "./_checks.js";

const TURNS = 200;

/** How the upstream names its responses and tool calls. */
const ID_SCHEMES: Array<{ name: string; ids: () => (kind: "chatcmpl" | "call") => string }> = [
  { name: "one constant id", ids: () => (kind) => (kind === "chatcmpl" ? "chatcmpl-1" : "call_1") },
  {
    name: "ids drawn from 0–998 (seeded)",
    ids: () => {
      const r = prng(24);
      return (kind) => `${kind === "chatcmpl" ? "chatcmpl-" : "call_"}${r.int(0, 998)}`;
    },
  },
];

/** What turn `n` says: every 10th asks for a tool call, so calls and results are stored too. */
const question = (n: number): string => (n % 10 === 5 ? `CALL lookup {"order":"ORD-${n}"}` : `question ${n}`);

/** Every turn's question and reply are stored once, in order, each reply after its question. */
async function assertNothingLost(manager: SessionManager, sessionId: string, replies: readonly string[]): Promise<void> {
  const history = await manager.history(sessionId);
  const texts = history.filter((m) => m.role === "user" || (m.role === "assistant" && m.content !== "")).map((m) => `${m.role}: ${m.content}`);
  const expected = replies.flatMap((reply, i) => [`user: ${question(i + 1)}`, `assistant: ${reply}`]);
  assert.equal(texts.length, expected.length, `${TURNS} questions and ${TURNS} replies stored (got ${texts.length} messages)`);
  assert.deepEqual(texts, expected);
  const calls = history.filter((m) => (m.toolCalls?.length ?? 0) > 0).length;
  const results = history.filter((m) => m.role === "tool").length;
  assert.equal(calls, TURNS / 10, "every tool call is stored");
  assert.equal(results, TURNS / 10, "every tool result is stored");
}

describe("adapters keep every reply when the upstream reuses its ids", () => {
  let upstream: FakeUpstream;
  before(async () => {
    setTracingDisabled(true);
    upstream = await startFakeUpstream();
  });
  after(async () => upstream.close());

  for (const scheme of ID_SCHEMES) {
    it(`agents adapter: ${TURNS} turns with ${scheme.name} lose no reply, call or result`, async () => {
      const t = await openTestManager();
      upstream.ids = scheme.ids();
      try {
        const client = new OpenAI({ baseURL: upstream.baseUrl, apiKey: "test-key", maxRetries: 0 });
        const lookup = tool({
          name: "lookup",
          description: "Find an order",
          parameters: { type: "object", properties: { order: { type: "string" } }, required: ["order"], additionalProperties: true },
          strict: false,
          execute: async (input) => `order ${(input as { order: string }).order} shipped`,
        });
        const agent = new Agent({ name: "orders", instructions: "Be terse.", model: new OpenAIChatCompletionsModel(client, "fake-model"), tools: [lookup] });
        const session = new OpenclawAgentsSession(t.manager, { inbound: { channel: "web", senderId: "ids" } });
        const replies: string[] = [];
        for (let n = 1; n <= TURNS; n++) replies.push(String((await run(agent, question(n), { session })).finalOutput));
        await assertNothingLost(t.manager, await session.getSessionId(), replies);
      } finally {
        upstream.ids = undefined;
        await t.cleanup();
      }
    });

    it(`langchain adapter: ${TURNS} turns with ${scheme.name} lose no reply, call or result`, async () => {
      const t = await openTestManager();
      upstream.ids = scheme.ids();
      try {
        const client = new OpenAI({ baseURL: upstream.baseUrl, apiKey: "test-key", maxRetries: 0 });
        // What ChatOpenAI does: the AI message takes the completion's id.
        const model = RunnableLambda.from(async (prompt: { toChatMessages(): BaseMessage[] }) => {
          const messages = prompt.toChatMessages().map((m) => {
            if (ToolMessage.isInstance(m)) return { role: "tool" as const, content: textOf(m.content), tool_call_id: m.tool_call_id };
            if (AIMessage.isInstance(m)) {
              const calls = (m.tool_calls ?? []).map((c) => ({ id: c.id ?? "", type: "function" as const, function: { name: c.name, arguments: JSON.stringify(c.args) } }));
              return { role: "assistant" as const, content: textOf(m.content), ...(calls.length > 0 ? { tool_calls: calls } : {}) };
            }
            return { role: m.type === "system" ? ("system" as const) : ("user" as const), content: textOf(m.content) };
          });
          const completion = await client.chat.completions.create({ model: "fake-model", messages, tools: [{ type: "function", function: { name: "lookup", parameters: {} } }] });
          const reply = completion.choices[0]?.message;
          const tool_calls = (reply?.tool_calls ?? []).flatMap((c) =>
            c.type === "function" ? [{ type: "tool_call" as const, id: c.id, name: c.function.name, args: JSON.parse(c.function.arguments) as Record<string, unknown> }] : [],
          );
          return new AIMessage({ content: reply?.content ?? "", id: completion.id, tool_calls });
        });
        const prompt = ChatPromptTemplate.fromMessages([["system", "Be terse."], new MessagesPlaceholder("history"), new MessagesPlaceholder("input")]);
        const chain = new RunnableWithMessageHistory({
          runnable: prompt.pipe(model),
          getMessageHistory: (sessionId: string) => new OpenclawChatMessageHistory(t.manager, { inbound: { channel: "web", senderId: sessionId } }),
          inputMessagesKey: "input",
          historyMessagesKey: "history",
        });
        const config = { configurable: { sessionId: "ids" } };
        const replies: string[] = [];
        for (let n = 1; n <= TURNS; n++) {
          let answer = (await chain.invoke({ input: [new HumanMessage(question(n))] }, config)) as AIMessage;
          const call = answer.tool_calls?.[0];
          if (call !== undefined) {
            const output = new ToolMessage({ content: `order ${String(call.args.order)} shipped`, tool_call_id: call.id ?? "" });
            answer = (await chain.invoke({ input: [output] }, config)) as AIMessage;
          }
          replies.push(textOf(answer.content));
        }
        const id = await new OpenclawChatMessageHistory(t.manager, { inbound: { channel: "web", senderId: "ids" } }).getSessionId();
        await assertNothingLost(t.manager, id, replies);
      } finally {
        upstream.ids = undefined;
        await t.cleanup();
      }
    });
  }
});

describe("adapters store a retried reply once, and the same reply in a later turn again", () => {
  it("agents adapter", async () => {
    const t = await openTestManager();
    try {
      const created = await t.manager.create({ key: "dm:web:retry-a" });
      const session = new OpenclawAgentsSession(t.manager, { ref: created.id });
      const reply: AgentInputItem = { type: "message", role: "assistant", status: "completed", content: [{ type: "output_text", text: "ok" }], id: "chatcmpl-7" };
      const turn: AgentInputItem[] = [{ type: "message", role: "user", content: "ping", id: "msg_1" }, reply];
      await session.addItems(turn);
      await session.addItems(turn);
      await session.addItems([reply]);
      assert.deepEqual(
        (await t.manager.history(created.id)).map((m) => m.content),
        ["ping", "ok"],
        "a retry, whole or of the reply alone, stores nothing",
      );
      await session.addItems([{ type: "message", role: "user", content: "ping" } satisfies AgentInputItem]);
      await session.addItems([reply]);
      await session.addItems([reply]);
      assert.deepEqual(
        (await t.manager.history(created.id)).map((m) => m.content),
        ["ping", "ok", "ping", "ok"],
        "the next turn's reply under the same id is stored, once",
      );
      assert.deepEqual(
        (await session.getItems()).map((i) => ("id" in i ? i.id : undefined)),
        ["msg_1", "chatcmpl-7", undefined, "chatcmpl-7"],
        "items come back with their own ids",
      );
    } finally {
      await t.cleanup();
    }
  });

  it("langchain adapter", async () => {
    const t = await openTestManager();
    try {
      const created = await t.manager.create({ key: "dm:web:retry-l" });
      const history = new OpenclawChatMessageHistory(t.manager, { ref: created.id });
      const reply = () => new AIMessage({ content: "ok", id: "chatcmpl-7" });
      await history.addMessages([new HumanMessage({ content: "ping", id: "h1" }), reply()]);
      await history.addMessages([new HumanMessage({ content: "ping", id: "h1" }), reply()]);
      await history.addMessage(reply());
      assert.deepEqual(
        (await t.manager.history(created.id)).map((m) => m.content),
        ["ping", "ok"],
        "a retry, whole or of the reply alone, stores nothing",
      );
      await history.addMessages([new HumanMessage("ping"), reply()]);
      await history.addMessage(reply());
      assert.deepEqual(
        (await t.manager.history(created.id)).map((m) => m.content),
        ["ping", "ok", "ping", "ok"],
        "the next turn's reply under the same id is stored, once",
      );
      assert.deepEqual(
        (await history.getMessages()).map((m) => m.id),
        ["h1", "chatcmpl-7", undefined, "chatcmpl-7"],
        "messages come back with their own ids",
      );
    } finally {
      await t.cleanup();
    }
  });
});
