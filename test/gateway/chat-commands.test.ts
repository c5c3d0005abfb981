import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import OpenAI from "openai";
import { runCli } from "../helpers/cli-run.js";
import { startFakeUpstream, type FakeUpstream } from "../helpers/fake-upstream.js";
import { startGatewayProcess, type GatewayProcess } from "../helpers/gateway-process.js";
import { testStoreUri } from "../helpers/test-store.js";

// On the backend under test (OPENCLAW_TEST_STORE): the CLI calls share the gateway's config, so its store.
const storeUri = testStoreUri();
const backend = storeUri === undefined ? {} : { storage: { uri: storeUri } };

describe("gateway: in-chat commands are answered by the gateway, in each API's shape, without the upstream", () => {
  let upstream: FakeUpstream;
  let gw: GatewayProcess;
  let client: OpenAI;
  const asKey = (key: string) => ({ headers: { "x-openclaw-session-key": key } });
  const cli = async (...args: string[]) => {
    const r = await runCli(["--state-dir", gw.stateDir, ...args], gw.home);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout;
  };

  before(async () => {
    upstream = await startFakeUpstream();
    gw = await startGatewayProcess({ gateway: { model: { baseUrl: upstream.baseUrl, model: "fake-model", maxRetries: 0 } }, ...backend });
    client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: gw.token, maxRetries: 0 });
    // A conversation to act on, recorded without any model.
    for (let i = 0; i < 6; i++) {
      await cli("sessions", "append", "--dm", "telegram:42", `question ${i}: what about order #${1000 + i}?`);
      await cli("sessions", "append", "--dm", "telegram:42", "--role", "assistant", `order #${1000 + i} ships Friday`);
    }
  });
  after(async () => {
    assert.deepEqual(upstream.requests, [], "the upstream was never asked");
    assert.equal(await gw.stop(), 0);
    await upstream.close();
  });

  it("chat completions: /status and /compact answer as a completion, streaming or not", async () => {
    const before = JSON.parse(await cli("sessions", "show", "dm:telegram:42", "--json")) as { id: string; messages: unknown[] };
    const status = await client.chat.completions.create({ model: "fake-model", messages: [{ role: "user", content: "/status" }] }, asKey("dm:telegram:42"));
    assert.match(status.choices[0]?.message.content ?? "", new RegExp(`^Session ${before.id} \\(dm:telegram:42\\)\\nModel: fake-model\\nContext: [\\d,]+ of 8,192 tokens`));
    assert.deepEqual([status.object, status.choices[0]?.finish_reason, status.usage?.total_tokens], ["chat.completion", "stop", 0]);

    const stream = await client.chat.completions.create(
      { model: "fake-model", stream: true, stream_options: { include_usage: true }, messages: [{ role: "user", content: "/compact order numbers" }] },
      asKey("dm:telegram:42"),
    );
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    assert.match(text, /^Compacted: \d+ messages folded into the summary\.$/);
    const after = JSON.parse(await cli("sessions", "show", "dm:telegram:42", "--json")) as { id: string; messages: Array<{ content: string }>; summary: unknown };
    assert.equal(after.id, before.id);
    assert.ok(after.summary !== null);
    assert.ok(!after.messages.some((m) => m.content.startsWith("/")), "commands are not stored");
  });

  it("chat completions: /new <model> starts a fresh session on that model, named in x-openclaw-session-id", async () => {
    const old = JSON.parse(await cli("sessions", "show", "dm:telegram:42", "--json")) as { id: string };
    const { data, response } = await client.chat.completions
      .create({ model: "fake-model", messages: [{ role: "user", content: "/new gpt-4o-mini" }] }, { headers: { "x-openclaw-channel": "telegram", "x-openclaw-sender": "42" } })
      .withResponse();
    assert.match(data.choices[0]?.message.content ?? "", /^New session started\. Settings were carried over from the previous session\. Model: gpt-4o-mini\.$/);
    const fresh = response.headers.get("x-openclaw-session-id");
    assert.ok(fresh !== null && fresh !== old.id);
    const shown = JSON.parse(await cli("sessions", "show", "dm:telegram:42", "--json")) as { id: string; preferences: Record<string, unknown>; messages: unknown[] };
    assert.deepEqual([shown.id, shown.preferences.model, shown.messages.length], [fresh, "gpt-4o-mini", 0]);
    const previous = JSON.parse(await cli("sessions", "show", old.id, "--json")) as { status: string };
    assert.equal(previous.status, "expired");
  });

  it("responses: /status in a conversation answers as a response, streaming or not; /reset there changes nothing", async () => {
    const conv = await client.conversations.create();
    const r = await client.responses.create({ model: "fake-model", conversation: conv.id, input: "/status" });
    assert.equal(r.status, "completed", JSON.stringify(r));
    assert.match(r.output_text, /^Session [0-9a-f-]{36} \(isolated:conversation:/);
    assert.equal(r.usage?.total_tokens, 0);
    const events = await client.responses.create({ model: "fake-model", conversation: conv.id, input: "/status", stream: true });
    let done = "";
    for await (const e of events) if (e.type === "response.output_text.done") done = e.text;
    assert.match(done, /^Session [0-9a-f-]{36} \(isolated:conversation:/);
    const reset = await client.responses.create({ model: "fake-model", conversation: conv.id, input: "/reset" });
    assert.match(reset.output_text, /^Nothing was reset: this session is addressed by its id/);
    const items = await client.conversations.items.list(conv.id);
    assert.equal(items.data.length, 0, "nothing was recorded in the conversation");
  });

  it("hooks: /reset answers in the hook's shape and reports the command", async () => {
    const r = await fetch(`${gw.url}/hooks/inbound`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${gw.token}` },
      body: JSON.stringify({ channel: "telegram", senderId: "42", text: "/reset" }),
    });
    const body = (await r.json()) as { sessionId: string; key: string; reply: { content: string }; duplicate: boolean; command: { name: string; previousId: string } };
    assert.equal(r.status, 200, JSON.stringify(body));
    assert.deepEqual([body.key, body.duplicate, body.command.name], ["dm:telegram:42", false, "reset"]);
    assert.match(body.reply.content, /^New session started\./);
    assert.notEqual(body.sessionId, body.command.previousId);
    const shown = JSON.parse(await cli("sessions", "show", "dm:telegram:42", "--json")) as { id: string; preferences: Record<string, unknown> };
    assert.deepEqual([shown.id, shown.preferences.model], [body.sessionId, "gpt-4o-mini"], "the model chosen with /new is carried over");
  });
});

describe("gateway: in-chat commands turned off, or from a group sender not allowed, go to the model as messages", () => {
  let upstream: FakeUpstream;
  let gw: GatewayProcess;

  before(async () => {
    upstream = await startFakeUpstream();
    gw = await startGatewayProcess({
      sessions: { commands: { status: false, groupSenders: ["alice"] } },
      gateway: { model: { baseUrl: upstream.baseUrl, model: "fake-model", maxRetries: 0 } },
      ...backend,
    });
  });
  after(async () => {
    assert.equal(await gw.stop(), 0);
    await upstream.close();
  });

  it("answers by the model what is not a command here, and by itself what is", async () => {
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: gw.token, maxRetries: 0 });
    const off = await client.chat.completions.create({ model: "fake-model", messages: [{ role: "user", content: "/status" }] }, { headers: { "x-openclaw-session-key": "dm:telegram:7" } });
    assert.equal(off.choices[0]?.message.content, "echo: /status");
    const hook = (senderId: string, text: string) =>
      fetch(`${gw.url}/hooks/inbound`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${gw.token}` },
        body: JSON.stringify({ channel: "slack", groupId: "C1", senderId, text }),
      }).then(async (r) => {
        assert.equal(r.status, 200);
        return (await r.json()) as { sessionId: string; reply: { content: string }; command?: { name: string } };
      });
    const carol = await hook("carol", "/reset");
    assert.deepEqual([carol.reply.content, carol.command], ["echo: [carol]: /reset", undefined], "carol may not: her text went to the model");
    const asked = upstream.requests.length;
    const alice = await hook("alice", "/reset");
    assert.equal(alice.command?.name, "reset");
    assert.notEqual(alice.sessionId, carol.sessionId);
    assert.equal(upstream.requests.length, asked, "alice's command did not reach the model");
  });
});
