import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Agent, run, setDefaultModelProvider, setTracingDisabled, tool, type AgentInputItem } from "@openai/agents-core";
import { OpenAIConversationsSession, OpenAIProvider, setDefaultOpenAIClient, setOpenAIAPI } from "@openai/agents-openai";
import OpenAI from "openai";
import type { ConversationItem } from "openai/resources/conversations/items";
import { startFakeUpstream, type FakeUpstream } from "../helpers/fake-upstream.js";
import { startGatewayProcess, type GatewayProcess } from "../helpers/gateway-process.js";

/** An Agents SDK item as [role or type, text] for compact comparisons. */
function agentBrief(i: AgentInputItem): string[] {
  if ("role" in i && (i.type === "message" || i.type === undefined)) {
    const content = typeof i.content === "string" ? i.content : i.content.map((p) => ("text" in p ? p.text : "")).join("");
    return [i.role, content];
  }
  return [i.type ?? "?"];
}

function itemBrief(i: ConversationItem): string[] {
  if (i.type === "message") return [i.role, i.content.map((p) => ("text" in p ? p.text : "")).join("")];
  if (i.type === "function_call") return ["function_call", i.name];
  if (i.type === "function_call_output") return ["function_call_output", typeof i.output === "string" ? i.output : ""];
  return [i.type];
}

const sent = (upstream: FakeUpstream) => upstream.requests.at(-1)?.body.messages.map((m) => [m.role, m.content]);

describe("gateway: driven by the OpenAI Agents SDK", () => {
  let upstream: FakeUpstream;
  let gw: GatewayProcess;
  let client: OpenAI;
  const agent = () => new Agent({ name: "echo", instructions: "You are terse.", model: "fake-model" });
  const itemsOf = async (conversationId: string) => (await client.conversations.items.list(conversationId, { order: "asc" })).data.map(itemBrief);

  before(async () => {
    upstream = await startFakeUpstream();
    gw = await startGatewayProcess({ gateway: { model: { baseUrl: upstream.baseUrl, model: "fake-model", maxRetries: 0 } } });
    client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: gw.token, maxRetries: 0 });
    setTracingDisabled(true);
    setDefaultOpenAIClient(client);
    setOpenAIAPI("responses");
    setDefaultModelProvider(new OpenAIProvider({ openAIClient: client, useResponses: true }));
  });
  after(async () => {
    assert.equal(await gw.stop(), 0, "SIGTERM exits 0");
    await upstream.close();
  });

  it("OpenAIConversationsSession: getItems, addItems, popItem and clearSession behave as documented", async () => {
    const session = new OpenAIConversationsSession();
    const id = await session.getSessionId();
    assert.match(id, /^conv_[0-9a-f]{32}$/);
    assert.deepEqual(await session.getItems(), []);
    await session.addItems([
      { role: "user", content: "one" },
      { type: "message", role: "assistant", status: "completed", content: [{ type: "output_text", text: "two" }] },
      { role: "user", content: [{ type: "input_text", text: "three" }] },
    ]);
    assert.deepEqual((await session.getItems()).map(agentBrief), [
      ["user", "one"],
      ["assistant", "two"],
      ["user", "three"],
    ]);
    assert.deepEqual(
      (await session.getItems(2)).map(agentBrief),
      [
        ["assistant", "two"],
        ["user", "three"],
      ],
      "the latest N, oldest first",
    );
    const popped = await session.popItem();
    assert.ok(popped !== undefined);
    assert.deepEqual(agentBrief(popped), ["user", "three"]);
    assert.deepEqual((await session.getItems()).map(agentBrief), [
      ["user", "one"],
      ["assistant", "two"],
    ]);
    await session.clearSession();
    await assert.rejects(client.conversations.retrieve(id), OpenAI.NotFoundError);
  });

  it("run() with an OpenAIConversationsSession remembers the exchange across runs", async () => {
    const session = new OpenAIConversationsSession();
    const first = await run(agent(), "remember this", { session });
    assert.equal(first.finalOutput, "echo: remember this");
    const second = await run(agent(), "and this", { session });
    assert.equal(second.finalOutput, "echo: and this");
    // The session's history was sent as input: the model saw the first exchange.
    assert.deepEqual(sent(upstream), [
      ["system", "You are terse."],
      ["user", "remember this"],
      ["assistant", "echo: remember this"],
      ["user", "and this"],
    ]);
    assert.deepEqual(await itemsOf(await session.getSessionId()), [
      ["user", "remember this"],
      ["assistant", "echo: remember this"],
      ["user", "and this"],
      ["assistant", "echo: and this"],
    ]);
  });

  it("run() with a conversationId twice leaves exactly user, assistant, user, assistant", async () => {
    const conv = await client.conversations.create();
    const first = await run(agent(), "hello agent", { conversationId: conv.id });
    assert.equal(first.finalOutput, "echo: hello agent");
    const second = await run(agent(), "second turn", { conversationId: conv.id });
    assert.equal(second.finalOutput, "echo: second turn");
    assert.deepEqual(sent(upstream), [
      ["system", "You are terse."],
      ["user", "hello agent"],
      ["assistant", "echo: hello agent"],
      ["user", "second turn"],
    ]);
    assert.deepEqual(await itemsOf(conv.id), [
      ["user", "hello agent"],
      ["assistant", "echo: hello agent"],
      ["user", "second turn"],
      ["assistant", "echo: second turn"],
    ]);
  });

  it("a streamed run in a conversation stores the same items", async () => {
    const conv = await client.conversations.create();
    const result = await run(agent(), "stream me please", { conversationId: conv.id, stream: true });
    let text = "";
    for await (const chunk of result.toTextStream()) text += chunk;
    await result.completed;
    assert.equal(text, "echo: stream me please");
    assert.equal(result.finalOutput, "echo: stream me please");
    assert.deepEqual(await itemsOf(conv.id), [
      ["user", "stream me please"],
      ["assistant", "echo: stream me please"],
    ]);
  });

  it("run() with previousResponseId continues the chain", async () => {
    const first = await run(agent(), "first link");
    assert.equal(first.finalOutput, "echo: first link");
    assert.ok(first.lastResponseId);
    const second = await run(agent(), "second link", { previousResponseId: first.lastResponseId });
    assert.equal(second.finalOutput, "echo: second link");
    assert.deepEqual(sent(upstream), [
      ["system", "You are terse."],
      ["user", "first link"],
      ["assistant", "echo: first link"],
      ["user", "second link"],
    ]);
  });

  it("a function tool runs between two model calls of one conversation run", async () => {
    const calls: unknown[] = [];
    const lookup = tool({
      name: "lookup",
      description: "Find an order",
      parameters: { type: "object", properties: { order: { type: "string" } }, required: ["order"], additionalProperties: true },
      strict: false,
      execute: async (input) => {
        calls.push(input);
        return "shipped";
      },
    });
    const withTool = new Agent({ name: "orders", instructions: "Use tools.", model: "fake-model", tools: [lookup] });
    const conv = await client.conversations.create();
    const result = await run(withTool, 'CALL lookup {"order":"ORD-7"}', { conversationId: conv.id });
    assert.equal(result.finalOutput, "tool said: shipped");
    assert.deepEqual(calls, [{ order: "ORD-7" }]);
    assert.deepEqual(await itemsOf(conv.id), [
      ["user", 'CALL lookup {"order":"ORD-7"}'],
      ["function_call", "lookup"],
      ["function_call_output", "shipped"],
      ["assistant", "tool said: shipped"],
    ]);
  });
});
