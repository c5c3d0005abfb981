import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import OpenAI from "openai";
import type { Session } from "../../src/session/types.js";
import { runCli } from "../helpers/cli-run.js";
import { startFakeUpstream, type FakeUpstream } from "../helpers/fake-upstream.js";
import { startGatewayProcess, type GatewayProcess } from "../helpers/gateway-process.js";

describe("gateway: chat completions through the official openai client", () => {
  let upstream: FakeUpstream;
  let gw: GatewayProcess;
  let client: OpenAI;
  const session = (key: string) => ({ headers: { "x-openclaw-session-key": key } });

  before(async () => {
    upstream = await startFakeUpstream();
    gw = await startGatewayProcess({ sessions: { maxHistoryLength: 100 }, gateway: { model: { baseUrl: upstream.baseUrl, model: "fake-model", maxRetries: 0 } } });
    client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: gw.token, maxRetries: 0 });
  });
  after(async () => {
    assert.equal(await gw.stop(), 0, "SIGTERM exits 0");
    await upstream.close();
  });

  it("lists the upstream model", async () => {
    const models = await client.models.list();
    assert.deepEqual(
      models.data.map((m) => m.id),
      ["fake-model"],
    );
    assert.equal((await client.models.retrieve("fake-model")).id, "fake-model");
    await assert.rejects(client.models.retrieve("nope"), OpenAI.NotFoundError);
  });

  it("a stateful exchange records only the new user message and sends the managed context", async () => {
    const first = await client.chat.completions.create({ model: "fake-model", messages: [{ role: "user", content: "hello there" }] }, session("dm:telegram:chat1"));
    assert.equal(first.choices[0]?.message.content, "echo: hello there");
    // The client replays its whole history; only the trailing user message is new.
    const second = await client.chat.completions.create(
      {
        model: "fake-model",
        messages: [
          { role: "user", content: "hello there" },
          { role: "assistant", content: "echo: hello there" },
          { role: "user", content: "second question" },
        ],
      },
      session("dm:telegram:chat1"),
    );
    assert.equal(second.choices[0]?.message.content, "echo: second question");
    const sent = upstream.requests.at(-1)?.body.messages.map((m) => [m.role, m.content]);
    assert.deepEqual(sent, [
      ["user", "hello there"],
      ["assistant", "echo: hello there"],
      ["user", "second question"],
    ]);
    const r = await runCli(["--state-dir", gw.stateDir, "sessions", "show", "dm:telegram:chat1", "--json"], gw.home);
    const doc = JSON.parse(r.stdout) as Session;
    assert.deepEqual(
      doc.messages.map((m) => [m.role, m.content]),
      [
        ["user", "hello there"],
        ["assistant", "echo: hello there"],
        ["user", "second question"],
        ["assistant", "echo: second question"],
      ],
    );
  });

  it("streams chunks ending with a usage chunk when asked, and stores the whole reply", async () => {
    const stream = await client.chat.completions.create(
      { model: "fake-model", messages: [{ role: "user", content: "one two three" }], stream: true, stream_options: { include_usage: true } },
      session("dm:telegram:stream1"),
    );
    let text = "";
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      if (chunk.usage) usage = chunk.usage;
    }
    assert.equal(text, "echo: one two three");
    assert.ok(usage && usage.completion_tokens === 4);
    const r = await runCli(["--state-dir", gw.stateDir, "sessions", "show", "dm:telegram:stream1", "--json"], gw.home);
    assert.equal((JSON.parse(r.stdout) as Session).messages.at(-1)?.content, "echo: one two three");
  });

  it("tool calls and their results round-trip through the session", async () => {
    const tools: OpenAI.ChatCompletionTool[] = [{ type: "function", function: { name: "lookup", parameters: { type: "object", properties: {} } } }];
    const ask = await client.chat.completions.create({ model: "fake-model", tools, messages: [{ role: "user", content: 'CALL lookup {"order":"ORD-7"}' }] }, session("dm:telegram:tools1"));
    const call = ask.choices[0]?.message.tool_calls?.[0];
    assert.ok(call && call.type === "function");
    assert.equal(call.function.name, "lookup");
    const done = await client.chat.completions.create(
      {
        model: "fake-model",
        tools,
        messages: [
          { role: "user", content: 'CALL lookup {"order":"ORD-7"}' },
          { role: "assistant", content: null, tool_calls: [call] },
          { role: "tool", tool_call_id: call.id, content: "shipped" },
        ],
      },
      session("dm:telegram:tools1"),
    );
    assert.equal(done.choices[0]?.message.content, "tool said: shipped");
    const sent = upstream.requests.at(-1)?.body.messages ?? [];
    assert.equal(sent.at(-2)?.tool_calls?.[0]?.id, call.id, "the stored call is sent with its result");
    assert.equal(sent.at(-1)?.tool_call_id, call.id);
  });

  it("without session headers the request is stateless: passed through, nothing stored", async () => {
    const before = (await runCli(["--state-dir", gw.stateDir, "sessions", "list", "--json"], gw.home)).stdout;
    const r = await client.chat.completions.create({
      model: "fake-model",
      messages: [
        { role: "system", content: "be terse" },
        { role: "user", content: "hi" },
      ],
    });
    assert.equal(r.choices[0]?.message.content, "echo: hi");
    assert.deepEqual(
      upstream.requests.at(-1)?.body.messages.map((m) => m.role),
      ["system", "user"],
    );
    const afterList = (await runCli(["--state-dir", gw.stateDir, "sessions", "list", "--json"], gw.home)).stdout;
    assert.equal(JSON.parse(afterList).total, JSON.parse(before).total);
  });

  it("errors surface as the client's typed errors", async () => {
    const bad = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: "wrong-token-wrong-token", maxRetries: 0 });
    await assert.rejects(bad.models.list(), OpenAI.AuthenticationError);
    await assert.rejects(client.chat.completions.create({ model: "fake-model", messages: [] }), OpenAI.BadRequestError);
    await assert.rejects(client.chat.completions.create({ model: "fake-model", messages: [{ role: "user", content: "x" }] }, session("isolated:x:y")), OpenAI.BadRequestError);
    await assert.rejects(client.chat.completions.create({ model: "fake-model", messages: [{ role: "user", content: "x" }] }, session("../../etc")), OpenAI.BadRequestError);
    const health = await fetch(`${gw.url}/health`);
    assert.equal(health.status, 200, "health needs no token");
    const raw = await fetch(`${gw.url}/v1/chat/completions`, { method: "POST", headers: { authorization: `Bearer ${gw.token}`, "content-type": "application/json" }, body: "{not json" });
    assert.equal(raw.status, 400);
    assert.match(((await raw.json()) as { error: { message: string } }).error.message, /not valid JSON/);
  });
});
