import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Session } from "../../src/session/types.js";
import { runCli } from "../helpers/cli-run.js";
import { startFakeUpstream, type FakeUpstream } from "../helpers/fake-upstream.js";
import { startGatewayProcess, type GatewayProcess } from "../helpers/gateway-process.js";

type Reply = { sessionId: string; key: string; reply: { id: string; content: string; toolCalls: unknown[] }; duplicate: boolean };
type ErrorBody = { error: { message: string; type: string; code: string } };

const post = (gw: GatewayProcess, body: unknown, token: string | null = gw.token): Promise<Response> =>
  fetch(`${gw.url}/hooks/inbound`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token === null ? {} : { authorization: `Bearer ${token}` }) },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });

async function inbound(gw: GatewayProcess, body: unknown, status = 200): Promise<Reply> {
  const r = await post(gw, body);
  const text = await r.text();
  assert.equal(r.status, status, text);
  return JSON.parse(text) as Reply;
}

async function refused(gw: GatewayProcess, body: unknown, status: number, message: RegExp): Promise<void> {
  const r = await post(gw, body);
  const parsed = (await r.json()) as ErrorBody;
  assert.equal(r.status, status, JSON.stringify(parsed));
  assert.match(parsed.error.message, message);
}

async function cliJson<T>(gw: GatewayProcess, ...args: string[]): Promise<T> {
  const r = await runCli(["--state-dir", gw.stateDir, ...args, "--json"], gw.home);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as T;
}

describe("gateway: POST /hooks/inbound", () => {
  let upstream: FakeUpstream;
  let gw: GatewayProcess;

  before(async () => {
    upstream = await startFakeUpstream();
    gw = await startGatewayProcess({ gateway: { model: { baseUrl: upstream.baseUrl, model: "fake-model", maxRetries: 0 } } });
  });
  after(async () => {
    assert.equal(await gw.stop(), 0);
    await upstream.close();
  });

  it("routes a DM, asks the model with the session's context and stores both sides", async () => {
    const first = await inbound(gw, { channel: "telegram", senderId: "42", text: "Book a table for 4" });
    assert.equal(first.key, "dm:telegram:42");
    assert.deepEqual(first.reply.content, "echo: Book a table for 4");
    assert.deepEqual([first.reply.toolCalls, first.duplicate], [[], false]);
    const second = await inbound(gw, { channel: "telegram", senderId: "42", text: "at 19:30" });
    assert.equal(second.sessionId, first.sessionId, "the same DM session");
    assert.deepEqual(
      upstream.requests.at(-1)?.body.messages.map((m) => [m.role, m.content]),
      [
        ["user", "Book a table for 4"],
        ["assistant", "echo: Book a table for 4"],
        ["user", "at 19:30"],
      ],
    );
    const doc = await cliJson<Session>(gw, "sessions", "show", "dm:telegram:42");
    assert.equal(doc.id, first.sessionId);
    assert.deepEqual(
      doc.messages.map((m) => [m.role, m.content, m.sender]),
      [
        ["user", "Book a table for 4", "42"],
        ["assistant", "echo: Book a table for 4", null],
        ["user", "at 19:30", "42"],
        ["assistant", "echo: at 19:30", null],
      ],
    );
    assert.deepEqual([doc.messages[1]?.id, doc.messages[3]?.id], [first.reply.id, second.reply.id]);
  });

  it("routes groups and threads like `sessions append`", async () => {
    const alice = await inbound(gw, { channel: "slack", senderId: "alice", groupId: "C024BE91L", text: "standup at 10:00" });
    const bob = await inbound(gw, { channel: "slack", senderId: "bob", groupId: "C024BE91L", text: "room Aurora-2" });
    assert.equal(alice.key, "group:slack:C024BE91L");
    assert.equal(bob.sessionId, alice.sessionId, "one shared session per group");
    const viaCli = await cliJson<{ id: string; key: string }>(gw, "sessions", "append", "--group", "slack:C024BE91L", "--from", "carol", "noted");
    assert.deepEqual([viaCli.id, viaCli.key], [alice.sessionId, alice.key], "the CLI routes to the same session");
    const thread = await inbound(gw, { channel: "slack", senderId: "alice", groupId: "C024BE91L", threadId: "T9", text: "in a thread" });
    assert.equal(thread.key, "group:slack:C024BE91L:thread:T9");
    assert.notEqual(thread.sessionId, alice.sessionId);
    const doc = await cliJson<Session>(gw, "sessions", "show", alice.sessionId);
    assert.deepEqual(
      doc.messages.filter((m) => m.role === "user").map((m) => m.sender),
      ["alice", "bob", "carol"],
    );
  });

  it("a repeated idempotencyKey stores nothing twice and returns the same reply", async () => {
    const body = { channel: "telegram", senderId: "idem", text: "ref INV-2024-0042", idempotencyKey: "tg-1001" };
    const first = await inbound(gw, body);
    const asked = upstream.requests.length;
    const again = await inbound(gw, body);
    assert.deepEqual(again, { ...first, duplicate: true });
    assert.equal(upstream.requests.length, asked, "the model is not asked again");
    const doc = await cliJson<Session>(gw, "sessions", "show", "dm:telegram:idem");
    assert.deepEqual(
      doc.messages.map((m) => [m.role, m.content]),
      [
        ["user", "ref INV-2024-0042"],
        ["assistant", "echo: ref INV-2024-0042"],
      ],
    );
    assert.equal(doc.messages[0]?.clientId, "tg-1001");
  });

  it("a retry after an upstream failure records the message once and stores one reply", async () => {
    const body = { channel: "telegram", senderId: "flaky", text: "are you there?", idempotencyKey: "tg-2002" };
    upstream.failWith = 500;
    try {
      const r = await post(gw, body);
      assert.equal(r.status, 502);
    } finally {
      upstream.failWith = undefined;
    }
    const stored = await cliJson<Session>(gw, "sessions", "show", "dm:telegram:flaky");
    assert.deepEqual(
      stored.messages.map((m) => m.role),
      ["user"],
      "the question is kept, no partial reply",
    );
    const retry = await inbound(gw, body);
    assert.deepEqual([retry.duplicate, retry.reply.content], [true, "echo: are you there?"]);
    const doc = await cliJson<Session>(gw, "sessions", "show", "dm:telegram:flaky");
    assert.deepEqual(
      doc.messages.map((m) => [m.role, m.content]),
      [
        ["user", "are you there?"],
        ["assistant", "echo: are you there?"],
      ],
    );
  });

  it("validates the body strictly and stores nothing on a refusal", async () => {
    const before = (await cliJson<{ total: number }>(gw, "sessions", "list", "--status", "all")).total;
    const ok = { channel: "telegram", senderId: "v1", text: "hi" };
    await refused(gw, { senderId: "v1", text: "hi" }, 400, /channel is required/);
    await refused(gw, { channel: "telegram", text: "hi" }, 400, /senderId is required/);
    await refused(gw, { channel: "telegram", senderId: "v1" }, 400, /text is required/);
    await refused(gw, { ...ok, text: "" }, 400, /text must not be empty/);
    await refused(gw, { ...ok, text: 42 }, 400, /text must be a string/);
    await refused(gw, { ...ok, groupId: ["g"] }, 400, /groupId must be a string/);
    await refused(gw, { ...ok, role: "system" }, 400, /unknown field "role"/);
    await refused(gw, { ...ok, channel: "../etc" }, 400, /invalid channel/);
    await refused(gw, { ...ok, senderId: "a b" }, 400, /invalid sender "a b"/);
    await refused(gw, { ...ok, idempotencyKey: "has space" }, 400, /invalid client message id/);
    await refused(gw, { ...ok, text: "nul\u0000byte" }, 400, /NUL/);
    await refused(gw, "{not json", 400, /not valid JSON/);
    await refused(gw, "[1,2]", 400, /must be a JSON object/);
    const r = await post(gw, ok, null);
    assert.equal(r.status, 401);
    assert.equal(((await r.json()) as ErrorBody).error.type, "authentication_error");
    assert.equal((await cliJson<{ total: number }>(gw, "sessions", "list", "--status", "all")).total, before);
  });
});

describe("gateway: POST /hooks/inbound without a model", () => {
  it("answers 503 and stores nothing", async () => {
    const gw = await startGatewayProcess({});
    try {
      const r = await post(gw, { channel: "telegram", senderId: "42", text: "hello" });
      assert.equal(r.status, 503);
      assert.match(((await r.json()) as ErrorBody).error.message, /no upstream model is configured/);
      assert.equal((await cliJson<{ total: number }>(gw, "sessions", "list", "--status", "all")).total, 0);
    } finally {
      assert.equal(await gw.stop(), 0);
    }
  });
});
