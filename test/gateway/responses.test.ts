import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import OpenAI from "openai";
import type { ResponseStreamEvent } from "openai/resources/responses/responses";
import type { Session } from "../../src/session/types.js";
import { runCli } from "../helpers/cli-run.js";
import { startFakeUpstream, type FakeUpstream } from "../helpers/fake-upstream.js";
import { startGatewayProcess, type GatewayProcess } from "../helpers/gateway-process.js";

const sent = (upstream: FakeUpstream) => upstream.requests.at(-1)?.body.messages.map((m) => [m.role, m.content]);

describe("gateway: the Responses API through the official openai client", () => {
  let upstream: FakeUpstream;
  let gw: GatewayProcess;
  let client: OpenAI;

  const sessionCount = async () => (JSON.parse((await runCli(["--state-dir", gw.stateDir, "sessions", "list", "--json"], gw.home)).stdout) as { total: number }).total;
  const show = async (id: string) => JSON.parse((await runCli(["--state-dir", gw.stateDir, "sessions", "show", id, "--json"], gw.home)).stdout) as Session;

  before(async () => {
    upstream = await startFakeUpstream();
    gw = await startGatewayProcess({ gateway: { model: { baseUrl: upstream.baseUrl, model: "fake-model", maxRetries: 0 } } });
    client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: gw.token, maxRetries: 0 });
  });
  after(async () => {
    assert.equal(await gw.stop(), 0, "SIGTERM exits 0");
    await upstream.close();
  });

  it("answers a plain input with a Response object in the SDK's shape", async () => {
    const r = await client.responses.create({ model: "fake-model", input: "hello there" });
    assert.equal(r.object, "response");
    assert.equal(r.status, "completed");
    assert.equal(r.output_text, "echo: hello there");
    assert.match(r.id, /^resp_[0-9a-f]{32}_[0-9a-f]{32}$/);
    const [item] = r.output;
    assert.ok(item?.type === "message");
    assert.equal(item.role, "assistant");
    assert.equal(item.status, "completed");
    assert.deepEqual(item.content, [{ type: "output_text", text: "echo: hello there", annotations: [], logprobs: [] }]);
    assert.deepEqual(r.usage, { input_tokens: 2, input_tokens_details: { cached_tokens: 0 }, output_tokens: 3, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 5 });
    assert.equal(r.error, null);
    assert.equal(r.previous_response_id, null);
    assert.equal(r.conversation, null);
    assert.deepEqual(r.tools, []);
    assert.deepEqual(sent(upstream), [["user", "hello there"]]);
  });

  it("previous_response_id continues the session: the next upstream call carries the first exchange", async () => {
    const first = await client.responses.create({ model: "fake-model", input: "first question", instructions: "be terse" });
    assert.deepEqual(sent(upstream), [
      ["system", "be terse"],
      ["user", "first question"],
    ]);
    assert.equal(first.instructions, "be terse");
    const second = await client.responses.create({ model: "fake-model", input: [{ role: "user", content: [{ type: "input_text", text: "second question" }] }], previous_response_id: first.id });
    assert.equal(second.output_text, "echo: second question");
    assert.equal(second.previous_response_id, first.id);
    // The instructions were for the first call only: neither stored nor sent again.
    assert.deepEqual(sent(upstream), [
      ["user", "first question"],
      ["assistant", "echo: first question"],
      ["user", "second question"],
    ]);
    const third = await client.responses.create({ model: "fake-model", input: "third", previous_response_id: second.id });
    assert.equal(third.output_text, "echo: third");
    assert.equal(sent(upstream)?.length, 5);
  });

  it("store: false is stateless: nothing is recorded and the response cannot be continued", async () => {
    const before = await sessionCount();
    const r = await client.responses.create({ model: "fake-model", input: "do not keep", store: false });
    assert.equal(r.output_text, "echo: do not keep");
    assert.equal((r as { store?: unknown }).store, false, "the request's store setting is echoed");
    assert.equal(await sessionCount(), before);
    await assert.rejects(client.responses.create({ model: "fake-model", input: "more", previous_response_id: r.id }), OpenAI.BadRequestError);
    // A response without store: false is kept: one new session.
    await client.responses.create({ model: "fake-model", input: "keep me" });
    assert.equal(await sessionCount(), before + 1);
  });

  it("runs in a conversation: input and output become its items", async () => {
    const conv = await client.conversations.create();
    const r1 = await client.responses.create({ model: "fake-model", input: "in a conversation", conversation: conv.id });
    assert.deepEqual(r1.conversation, { id: conv.id });
    const r2 = await client.responses.create({ model: "fake-model", input: "again", conversation: { id: conv.id } });
    assert.equal(r2.output_text, "echo: again");
    assert.deepEqual(sent(upstream), [
      ["user", "in a conversation"],
      ["assistant", "echo: in a conversation"],
      ["user", "again"],
    ]);
    const items = (await client.conversations.items.list(conv.id, { order: "asc" })).data;
    assert.deepEqual(
      items.map((i) => (i.type === "message" ? [i.role, i.content.map((p) => ("text" in p ? p.text : "")).join("")] : [i.type])),
      [
        ["user", "in a conversation"],
        ["assistant", "echo: in a conversation"],
        ["user", "again"],
        ["assistant", "echo: again"],
      ],
    );
    // The response's output items are the conversation's items: same ids.
    assert.equal(items[3]?.id, r2.output[0]?.id);
    const got = await client.conversations.items.retrieve(r1.output[0]?.id ?? "", { conversation_id: conv.id });
    assert.equal(got.type, "message");
  });

  it("refuses conversation with previous_response_id, unknown ids and bad input with the SDK's typed errors", async () => {
    const first = await client.responses.create({ model: "fake-model", input: "x" });
    const conv = await client.conversations.create();
    await assert.rejects(client.responses.create({ model: "fake-model", input: "y", conversation: conv.id, previous_response_id: first.id }), OpenAI.BadRequestError);
    await assert.rejects(client.responses.create({ model: "fake-model", input: "y", conversation: `conv_${"0".repeat(32)}` }), OpenAI.NotFoundError);
    await assert.rejects(client.responses.create({ model: "fake-model", input: "y", conversation: "conv_nope" }), OpenAI.BadRequestError);
    await assert.rejects(client.responses.create({ model: "fake-model", input: "y", previous_response_id: `resp_${"0".repeat(32)}_${"0".repeat(32)}` }), /Previous response with id/);
    await assert.rejects(client.responses.create({ model: "fake-model", input: "y", previous_response_id: "resp_garbage" }), OpenAI.BadRequestError);
    await assert.rejects(client.responses.create({ model: "fake-model", input: [] }), OpenAI.BadRequestError);
    await assert.rejects(client.responses.create({ model: "fake-model", input: [{ type: "web_search_call", id: "ws_1", status: "completed", action: { type: "search", query: "q" } }] }), OpenAI.BadRequestError);
    await assert.rejects(client.responses.create({ model: "fake-model", input: "y", tools: [{ type: "web_search" }] }), OpenAI.BadRequestError);
  });

  it("client.responses.stream() gets the exact event sequence and a final response", async () => {
    const stream = client.responses.stream({ model: "fake-model", input: "one two three" });
    const events: ResponseStreamEvent[] = [];
    for await (const e of stream) events.push(e);
    const final = await stream.finalResponse();
    assert.equal(final.output_text, "echo: one two three");
    assert.equal(final.status, "completed");
    assert.deepEqual(
      events.map((e) => e.sequence_number),
      events.map((_, i) => i),
    );
    const types = events.map((e) => e.type);
    assert.deepEqual(types, [
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.content_part.added",
      ...Array<string>(4).fill("response.output_text.delta"),
      "response.output_text.done",
      "response.content_part.done",
      "response.output_item.done",
      "response.completed",
    ]);
    const created = events[0];
    assert.ok(created?.type === "response.created");
    assert.equal(created.response.id, final.id, "the id announced first is the final id");
    const added = events[2];
    assert.ok(added?.type === "response.output_item.added");
    assert.equal(added.item.id, final.output[0]?.id, "streamed item ids are the stored ones");
    // The streamed reply was stored whole: the chain continues from it.
    const next = await client.responses.create({ model: "fake-model", input: "after stream", previous_response_id: final.id });
    assert.equal(next.output_text, "echo: after stream");
    assert.deepEqual(sent(upstream), [
      ["user", "one two three"],
      ["assistant", "echo: one two three"],
      ["user", "after stream"],
    ]);
  });

  it("create({stream: true}) yields the same events to a plain iterator", async () => {
    const stream = await client.responses.create({ model: "fake-model", input: "plain stream", stream: true });
    let text = "";
    let completed: OpenAI.Responses.Response | undefined;
    for await (const e of stream) {
      if (e.type === "response.output_text.delta") text += e.delta;
      if (e.type === "response.completed") completed = e.response;
    }
    assert.equal(text, "echo: plain stream");
    assert.equal(completed?.usage?.output_tokens, 3);
  });

  it("function tools round-trip: a function_call item, then a function_call_output input", async () => {
    const tools: OpenAI.Responses.FunctionTool[] = [{ type: "function", name: "lookup", description: "find an order", parameters: { type: "object", properties: { order: { type: "string" } } }, strict: false }];
    const ask = await client.responses.create({ model: "fake-model", tools, tool_choice: "auto", input: 'CALL lookup {"order":"ORD-7"}' });
    const upstreamTools = upstream.requests.at(-1)?.body.tools;
    assert.deepEqual(upstreamTools, [{ type: "function", function: { name: "lookup", description: "find an order", parameters: { type: "object", properties: { order: { type: "string" } } }, strict: false } }]);
    assert.equal(upstream.requests.at(-1)?.body.tool_choice, "auto");
    const call = ask.output[0];
    assert.ok(call?.type === "function_call");
    assert.equal(call.name, "lookup");
    assert.equal(call.arguments, '{"order":"ORD-7"}');
    assert.equal(call.status, "completed");
    assert.equal(ask.output_text, "");
    const done = await client.responses.create({ model: "fake-model", tools, previous_response_id: ask.id, input: [{ type: "function_call_output", call_id: call.call_id, output: "shipped" }] });
    assert.equal(done.output_text, "tool said: shipped");
    const messages = upstream.requests.at(-1)?.body.messages ?? [];
    assert.equal(messages.at(-2)?.tool_calls?.[0]?.id, call.call_id, "the stored call is sent with its result");
    assert.equal(messages.at(-1)?.tool_call_id, call.call_id);
  });

  it("a client that replays its function_call items (no previous_response_id) gets them stored as one assistant turn", async () => {
    const r = await client.responses.create({
      model: "fake-model",
      input: [
        { role: "user", content: "look it up" },
        { type: "function_call", call_id: "call_a", name: "lookup", arguments: "{}" },
        { type: "function_call_output", call_id: "call_a", output: [{ type: "input_text", text: "found" }] },
      ],
    });
    assert.equal(r.output_text, "tool said: found");
    const messages = upstream.requests.at(-1)?.body.messages ?? [];
    assert.deepEqual(
      messages.map((m) => m.role),
      ["user", "assistant", "tool"],
    );
    assert.equal(messages[1]?.tool_calls?.[0]?.id, "call_a");
  });

  it("streams a function call with argument deltas", async () => {
    const tools: OpenAI.Responses.FunctionTool[] = [{ type: "function", name: "lookup", parameters: null, strict: null }];
    const stream = client.responses.stream({ model: "fake-model", tools, input: 'CALL lookup {"q":1}' });
    const types: string[] = [];
    for await (const e of stream) types.push(e.type);
    const final = await stream.finalResponse();
    assert.deepEqual(types, [
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.function_call_arguments.delta",
      "response.function_call_arguments.done",
      "response.output_item.done",
      "response.completed",
    ]);
    const call = final.output[0];
    assert.ok(call?.type === "function_call");
    assert.equal(call.arguments, '{"q":1}');
    assert.equal(call.name, "lookup");
  });

  it("an upstream failure before the stream starts is an ordinary HTTP error", async () => {
    upstream.failWith = 500;
    try {
      await assert.rejects(client.responses.create({ model: "fake-model", input: "doomed", stream: true }), OpenAI.InternalServerError);
      await assert.rejects(client.responses.create({ model: "fake-model", input: "doomed" }), (err: unknown) => err instanceof OpenAI.APIError && err.status === 502);
    } finally {
      upstream.failWith = undefined;
    }
  });

  it("records exactly the input and the reply in the response's session", async () => {
    const r = await client.responses.create({
      model: "fake-model",
      input: [
        { role: "developer", content: "dev note" },
        { role: "user", content: "question" },
      ],
    });
    const sessionHex = /^resp_([0-9a-f]{32})_/.exec(r.id)?.[1] ?? "";
    const id = `${sessionHex.slice(0, 8)}-${sessionHex.slice(8, 12)}-${sessionHex.slice(12, 16)}-${sessionHex.slice(16, 20)}-${sessionHex.slice(20)}`;
    const doc = await show(id);
    assert.match(doc.key, /^isolated:response:/);
    assert.deepEqual(
      doc.messages.map((m) => [m.role, m.content]),
      [
        ["system", "dev note"],
        ["user", "question"],
        ["assistant", "echo: question"],
      ],
    );
  });
});

describe("gateway: a Responses stream whose upstream dies mid-reply", () => {
  let broken: Server;
  let gw: GatewayProcess;
  let client: OpenAI;

  before(async () => {
    // Sends the first words of a streamed reply, then drops the connection.
    broken = createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        res.writeHead(200, { "content-type": "text/event-stream" });
        const chunk = (delta: unknown) => ({ id: "x", object: "chat.completion.chunk", created: 1, model: "m", choices: [{ index: 0, delta, finish_reason: null }] });
        res.write(`data: ${JSON.stringify(chunk({ role: "assistant", content: "half" }))}\n\n`);
        setTimeout(() => res.destroy(), 50);
      });
    });
    await new Promise<void>((resolve) => broken.listen(0, "127.0.0.1", resolve));
    const baseUrl = `http://127.0.0.1:${(broken.address() as AddressInfo).port}/v1`;
    gw = await startGatewayProcess({ gateway: { model: { baseUrl, model: "fake-model", maxRetries: 0 } } });
    client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: gw.token, maxRetries: 0 });
  });
  after(async () => {
    assert.equal(await gw.stop(), 0);
    broken.closeAllConnections();
    await new Promise<void>((resolve) => broken.close(() => resolve()));
  });

  it("ends with response.failed, status failed and an error", async () => {
    const stream = await client.responses.create({ model: "fake-model", input: "tell me", stream: true });
    const events: ResponseStreamEvent[] = [];
    for await (const e of stream) events.push(e);
    assert.equal(events.at(-1)?.type, "response.failed");
    const failed = events.at(-1);
    assert.ok(failed?.type === "response.failed");
    assert.equal(failed.response.status, "failed");
    assert.equal(failed.response.error?.code, "server_error");
    assert.ok(
      events.some((e) => e.type === "response.output_text.delta" && e.delta === "half"),
      "what came before the failure was streamed",
    );
  });
});
