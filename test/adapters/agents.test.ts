import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Agent, run, setTracingDisabled, tool, type AgentInputItem } from "@openai/agents-core";
import { OpenAIChatCompletionsModel } from "@openai/agents-openai";
import OpenAI from "openai";
import { OpenclawAgentsSession } from "../../src/adapters/agents/index.js";
import { isSummaryNote } from "../../src/context/build.js";
import { startFakeUpstream, type FakeUpstream, type UpstreamRequest } from "../helpers/fake-upstream.js";
import { openTestManager } from "../helpers/manager-open.js";
import { assertPairsTogether, exportedMessages, FILLER, PRUNING_CONFIG, requestTokens, textOf, type Sent } from "./_checks.js";

/** An item as [role or type, text or call id] for compact comparisons. */
function brief(i: AgentInputItem): string[] {
  if (i.type === "function_call") return ["function_call", i.callId, i.name];
  if (i.type === "function_call_result") return ["function_call_result", i.callId, textOf([i.output])];
  if ("role" in i) return [i.role, textOf(i.content)];
  return [i.type ?? "?"];
}

const sentOf = (r: UpstreamRequest): Sent[] =>
  r.body.messages.map((m) => ({
    role: m.role,
    content: textOf(m.content),
    callIds: (m.tool_calls ?? []).map((c) => c.id),
    ...(m.tool_calls?.[0] !== undefined ? { callName: m.tool_calls[0].function.name, callArgs: m.tool_calls[0].function.arguments } : {}),
    ...(m.tool_call_id !== undefined ? { toolCallId: m.tool_call_id } : {}),
  }));

const user = (text: string, id?: string): AgentInputItem => ({ type: "message", role: "user", content: text, ...(id ? { id } : {}) });
const reply = (text: string, id?: string): AgentInputItem => ({ type: "message", role: "assistant", status: "completed", content: [{ type: "output_text", text }], ...(id ? { id } : {}) });
const call = (callId: string, args = "{}"): AgentInputItem => ({ type: "function_call", callId, name: "lookup", arguments: args, status: "completed" });
const result = (callId: string, text: string): AgentInputItem => ({ type: "function_call_result", callId, name: "lookup", status: "completed", output: { type: "text", text } });

describe("agents adapter: the Agents SDK's run loop on an openclaw session", () => {
  let upstream: FakeUpstream;
  before(async () => {
    setTracingDisabled(true);
    upstream = await startFakeUpstream();
  });
  after(async () => upstream.close());

  it("a long conversation with tool calls stays within the window, keeps each call with its result and loses no item", async () => {
    const t = await openTestManager({ config: PRUNING_CONFIG });
    try {
      const client = new OpenAI({ baseURL: upstream.baseUrl, apiKey: "test-key", maxRetries: 0 });
      const lookups: unknown[] = [];
      const lookup = tool({
        name: "lookup",
        description: "Find an order",
        parameters: { type: "object", properties: { order: { type: "string" } }, required: ["order"], additionalProperties: true },
        strict: false,
        execute: async (input) => {
          lookups.push(input);
          return `order ${(input as { order: string }).order} shipped`;
        },
      });
      const agent = new Agent({ name: "orders", instructions: "Be terse.", model: new OpenAIChatCompletionsModel(client, "fake-model"), tools: [lookup] });
      const session = new OpenclawAgentsSession(t.manager, { inbound: { channel: "web", senderId: "u1" } });
      const first = upstream.requests.length;
      const said: string[] = [];
      const replies: string[] = [];
      for (let turn = 1; turn <= 14; turn++) {
        const text = turn % 4 === 3 ? `CALL lookup {"order":"ORD-${turn}"}` : `turn ${turn}: ${FILLER} ${FILLER}`;
        said.push(text);
        const r = await run(agent, text, { session });
        replies.push(String(r.finalOutput));
      }
      assert.equal(lookups.length, 3, "the tool ran on turns 3, 7 and 11");
      assert.equal(replies[2], "tool said: order ORD-3 shipped");

      const requests = upstream.requests.slice(first);
      assert.equal(requests.length, 14 + 3, "one model call per turn, one more after each tool result");
      const { window, budget } = await t.manager.window();
      let withSummary = 0;
      for (const [i, r] of requests.entries()) {
        const sent = sentOf(r);
        assert.ok((await requestTokens(sent)) <= window, `request ${i} fits the ${window}-token window`);
        assert.ok(sent.filter((m) => m.role !== "system").length <= PRUNING_CONFIG.sessions.maxHistoryLength + 3, `request ${i} holds the kept turns plus this run's items only`);
        assertPairsTogether(sent, `request ${i}`);
        if (sent.some((m) => m.role === "system" && isSummaryNote(m.content))) withSummary++;
      }
      assert.ok(withSummary > 0, "folded turns reach the model as the summary note");
      // The tool turn's second call carries the call and its result.
      assert.ok(requests.some((r) => sentOf(r).some((m) => m.toolCallId !== undefined)));

      const id = await session.getSessionId();
      const stored = exportedMessages(await t.manager.exportSessions([id]));
      const total = stored.reduce((n, m) => n + m.tokens, 0);
      assert.ok(total > budget, `the conversation (${total} tokens) outgrew the budget, so pruning was needed`);
      assert.ok((await t.manager.get(id)).summary !== null);
      assert.deepEqual(
        stored.filter((m) => m.role === "user").map((m) => m.content),
        said,
        "every user item is in the export, once",
      );
      assert.deepEqual(
        stored.filter((m) => m.role === "assistant" && m.content !== "").map((m) => m.content),
        replies,
        "every reply is in the export, once",
      );
      const calls = stored.flatMap((m) => (m.toolCalls ?? []).map((c) => c.id));
      const results = stored.flatMap((m) => (m.toolCallId !== undefined ? [m.toolCallId] : []));
      assert.equal(calls.length, 3);
      assert.deepEqual(results, calls, "each call's result is stored once, under the call's id");
      // What the runner will send next is what getItems gives: within the budget.
      const items = await session.getItems();
      assert.equal(brief(items[0] as AgentInputItem)[0], "system");
      assert.ok(isSummaryNote(textOf((items[0] as { content: unknown }).content)));
    } finally {
      await t.cleanup();
    }
  });
});

describe("agents adapter: the Session interface", () => {
  const open = async () => {
    const t = await openTestManager();
    const created = await t.manager.create({ key: "dm:web:u2" });
    return { ...t, sessionId: created.id, session: new OpenclawAgentsSession(t.manager, { ref: created.id }) };
  };

  it("items come back in order with their ids and call ids", async () => {
    const t = await open();
    try {
      await t.session.addItems([user("where is my order?", "msg_u1"), reply("checking", "msg_a1"), call("call_1", '{"order":"A1"}'), result("call_1", "shipped"), reply("it shipped", "msg_a2")]);
      const items = await t.session.getItems();
      assert.deepEqual(items.map(brief), [
        ["user", "where is my order?"],
        ["assistant", "checking"],
        ["function_call", "call_1", "lookup"],
        ["function_call_result", "call_1", "shipped"],
        ["assistant", "it shipped"],
      ]);
      assert.deepEqual(
        items.map((i) => ("id" in i ? i.id : undefined)),
        ["msg_u1", "msg_a1", undefined, undefined, "msg_a2"],
      );
      assert.equal((items[2] as { arguments: string }).arguments, '{"order":"A1"}');
      // The assistant text and its call are one stored message, so they move together.
      const stored = (await t.manager.get(t.sessionId)).messages;
      assert.equal(stored.length, 4);
      assert.deepEqual(stored[1]?.toolCalls, [{ id: "call_1", name: "lookup", arguments: '{"order":"A1"}' }]);
      assert.equal(stored[2]?.toolCallId, "call_1");
    } finally {
      await t.cleanup();
    }
  });

  it("adding the same items again stores nothing twice", async () => {
    const t = await open();
    try {
      const batch = [user("hi", "msg_u1"), call("call_9"), result("call_9", "done"), reply("ok", "msg_a1")];
      await t.session.addItems(batch);
      await t.session.addItems(batch);
      assert.deepEqual((await t.session.getItems()).map(brief), [
        ["user", "hi"],
        ["function_call", "call_9", "lookup"],
        ["function_call_result", "call_9", "done"],
        ["assistant", "ok"],
      ]);
      assert.equal((await t.manager.history(t.sessionId)).length, 4);
    } finally {
      await t.cleanup();
    }
  });

  it("getItems(limit) gives the latest items, oldest first, never opening with a result cut from its call", async () => {
    const t = await open();
    try {
      await t.session.addItems([user("a"), reply("b"), user("c"), call("call_2"), result("call_2", "r"), reply("d")]);
      assert.deepEqual((await t.session.getItems(2)).map(brief), [["assistant", "d"]]);
      assert.deepEqual((await t.session.getItems(3)).map(brief), [
        ["function_call", "call_2", "lookup"],
        ["function_call_result", "call_2", "r"],
        ["assistant", "d"],
      ]);
      assert.deepEqual(await t.session.getItems(0), []);
      assert.equal((await t.session.getItems(100)).length, 6);
    } finally {
      await t.cleanup();
    }
  });

  it("popItem removes and returns the latest item, one call at a time; undefined when empty", async () => {
    const t = await open();
    try {
      assert.equal(await t.session.popItem(), undefined);
      await t.session.addItems([user("q", "msg_u1"), reply("let me look", "msg_a1"), call("call_a"), call("call_b")]);
      assert.deepEqual(brief((await t.session.popItem()) as AgentInputItem), ["function_call", "call_b", "lookup"]);
      assert.deepEqual(
        (await t.session.getItems()).map(brief),
        [
          ["user", "q"],
          ["assistant", "let me look"],
          ["function_call", "call_a", "lookup"],
        ],
        "a call still waiting for its result is shown",
      );
      const stored = (await t.manager.get(t.sessionId)).messages;
      assert.deepEqual(
        stored[1]?.toolCalls?.map((c) => c.id),
        ["call_a"],
        "the message keeps its other call",
      );
      assert.deepEqual(brief((await t.session.popItem()) as AgentInputItem), ["function_call", "call_a", "lookup"]);
      const text = await t.session.popItem();
      assert.deepEqual(brief(text as AgentInputItem), ["assistant", "let me look"]);
      assert.equal((text as { id?: string }).id, "msg_a1");
      assert.deepEqual(brief((await t.session.popItem()) as AgentInputItem), ["user", "q"]);
      assert.equal(await t.session.popItem(), undefined);
      assert.deepEqual(await t.session.getItems(), []);
    } finally {
      await t.cleanup();
    }
  });

  it("calls still waiting for their results are shown, so the results can follow them", async () => {
    const t = await open();
    try {
      await t.session.addItems([user("q"), call("call_x"), call("call_y"), result("call_x", "1")]);
      assert.deepEqual((await t.session.getItems()).map(brief), [
        ["user", "q"],
        ["function_call", "call_x", "lookup"],
        ["function_call", "call_y", "lookup"],
        ["function_call_result", "call_x", "1"],
      ]);
      await t.session.addItems([result("call_y", "2"), reply("done")]);
      assert.deepEqual((await t.session.getItems()).map(brief).slice(-3), [
        ["function_call_result", "call_x", "1"],
        ["function_call_result", "call_y", "2"],
        ["assistant", "done"],
      ]);
    } finally {
      await t.cleanup();
    }
  });

  it("popItem of a result names its call's tool", async () => {
    const t = await open();
    try {
      await t.session.addItems([user("q"), call("call_c"), result("call_c", "42")]);
      assert.deepEqual(brief((await t.session.popItem()) as AgentInputItem), ["function_call_result", "call_c", "42"]);
      assert.equal((await t.manager.get(t.sessionId)).messages.length, 2);
    } finally {
      await t.cleanup();
    }
  });

  it("clearSession empties the session; its system prompt stays and leads the items", async () => {
    const t = await open();
    try {
      await t.manager.setSystemPrompt(t.sessionId, "You are a concise assistant.");
      await t.session.addItems([user("one"), reply("two")]);
      await t.session.clearSession();
      assert.deepEqual((await t.session.getItems()).map(brief), [["system", "You are a concise assistant."]]);
      assert.deepEqual(await t.manager.history(t.sessionId), []);
      assert.equal(await t.session.getSessionId(), t.sessionId, "the same session, emptied");
    } finally {
      await t.cleanup();
    }
  });

  it("an unsupported item is refused before anything is written", async () => {
    const t = await open();
    try {
      const image: AgentInputItem = { type: "message", role: "user", content: [{ type: "input_image", image: "https://example.invalid/a.png" }] };
      await assert.rejects(t.session.addItems([user("first"), image]), { code: "INVALID_ARGUMENT", message: /items\[1\]\.content\[0\]: a part of type "input_image"/ });
      await assert.rejects(t.session.addItems([{ type: "computer_call", callId: "c", status: "completed", action: { type: "screenshot" } }]), { code: "INVALID_ARGUMENT" });
      assert.deepEqual(await t.session.getItems(), []);
    } finally {
      await t.cleanup();
    }
  });

  it("an inbound target routes: a DM finds its live session, an isolated one keeps the session it started", async () => {
    const t = await openTestManager();
    try {
      const dm = new OpenclawAgentsSession(t.manager, { inbound: { channel: "telegram", senderId: "42" } });
      await dm.addItems([user("hello")]);
      const dmId = await dm.getSessionId();
      assert.equal((await t.manager.get("dm:telegram:42")).id, dmId);
      assert.equal((await t.manager.get(dmId)).messages[0]?.sender, "42", "user items carry the inbound sender");
      const task = new OpenclawAgentsSession(t.manager, { inbound: { channel: "telegram", senderId: "42", isolated: "research" } });
      await task.addItems([user("look this up")]);
      await task.addItems([reply("found it")]);
      const taskId = await task.getSessionId();
      assert.notEqual(taskId, dmId);
      assert.deepEqual((await task.getItems()).map(brief), [
        ["user", "look this up"],
        ["assistant", "found it"],
      ]);
    } finally {
      await t.cleanup();
    }
  });
});
