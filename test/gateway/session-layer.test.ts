import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Session } from "../../src/session/types.js";
import { runCli } from "../helpers/cli-run.js";
import { startFakeUpstream, type FakeUpstream } from "../helpers/fake-upstream.js";
import { startGatewayProcess, type GatewayProcess } from "../helpers/gateway-process.js";
import { testStoreUri } from "../helpers/test-store.js";

// DM scopes, identity links, threads and origins through the gateway, on the
// backend under test (OPENCLAW_TEST_STORE), as a channel bot would use them.

type Reply = { sessionId: string; key: string };

describe("gateway: DM scope, identities, threads and origins", () => {
  let upstream: FakeUpstream;
  let gw: GatewayProcess;
  const storeUri = testStoreUri();
  const store = storeUri === undefined ? [] : ["--store", storeUri];

  before(async () => {
    upstream = await startFakeUpstream();
    gw = await startGatewayProcess({
      sessions: { dmScope: "per-account-channel-peer", identityLinks: { "person-1": ["telegram:123", "discord:987"] } },
      gateway: { model: { baseUrl: upstream.baseUrl, model: "fake-model", maxRetries: 0 } },
      ...(storeUri !== undefined ? { storage: { uri: storeUri } } : {}),
    });
  });
  after(async () => {
    assert.equal(await gw.stop(), 0);
    await upstream.close();
  });

  const hook = async (body: Record<string, unknown>): Promise<Reply> => {
    const r = await fetch(`${gw.url}/hooks/inbound`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${gw.token}` }, body: JSON.stringify(body) });
    const text = await r.text();
    assert.equal(r.status, 200, text);
    return JSON.parse(text) as Reply;
  };
  const chat = async (headers: Record<string, string>, content: string): Promise<{ status: number; sessionId: string | null; body: string }> => {
    const r = await fetch(`${gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${gw.token}`, ...headers },
      body: JSON.stringify({ model: "fake-model", messages: [{ role: "user", content }] }),
    });
    return { status: r.status, sessionId: r.headers.get("x-openclaw-session-id"), body: await r.text() };
  };
  const show = async (ref: string): Promise<Session> => {
    const r = await runCli(["--state-dir", gw.stateDir, ...store, "sessions", "show", ref, "--json"], gw.home);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as Session;
  };

  it("x-openclaw-account and accountId key DMs per bot account", async () => {
    const viaHeader = await chat({ "x-openclaw-channel": "telegram", "x-openclaw-sender": "42", "x-openclaw-account": "support-bot" }, "hello support");
    assert.equal(viaHeader.status, 200, viaHeader.body);
    const viaHook = await hook({ channel: "telegram", senderId: "42", accountId: "sales-bot", text: "hello sales" });
    assert.equal(viaHook.key, "dm:telegram:sales-bot:42");
    const support = await show("dm:telegram:support-bot:42");
    assert.equal(support.id, viaHeader.sessionId);
    assert.notEqual(support.id, viaHook.sessionId);
    assert.equal(support.origin?.account, "support-bot");
    const noAccount = await hook({ channel: "telegram", senderId: "42", text: "no account" });
    assert.equal(noAccount.key, "dm:telegram:default:42");
  });

  it("an account header beside a session key is refused", async () => {
    const r = await chat({ "x-openclaw-session-key": "dm:telegram:support-bot:42", "x-openclaw-account": "support-bot" }, "hi");
    assert.equal(r.status, 400, r.body);
  });

  it("a session key of any scope shape names its session", async () => {
    const r = await chat({ "x-openclaw-session-key": "dm:telegram:support-bot:42" }, "by key");
    assert.equal(r.status, 200, r.body);
    assert.equal(r.sessionId, (await show("dm:telegram:support-bot:42")).id);
  });

  it("Matrix, Teams and web ids pass as sender and group headers and inside a session key; a path-like id is refused", async () => {
    const matrix = await chat({ "x-openclaw-channel": "matrix", "x-openclaw-sender": "@alice:matrix.org", "x-openclaw-group": "!room:matrix.org" }, "room");
    assert.equal(matrix.status, 200, matrix.body);
    assert.equal((await show(matrix.sessionId ?? "")).key, "group:matrix:!room%3Amatrix.org");
    const byKey = await chat({ "x-openclaw-session-key": "group:matrix:!room%3Amatrix.org" }, "again");
    assert.equal(byKey.sessionId, matrix.sessionId);
    const teams = await chat({ "x-openclaw-session-key": "dm:ms-teams:29%3A1abc" }, "teams");
    assert.equal(teams.status, 200, teams.body);
    const web = await chat({ "x-openclaw-channel": "web", "x-openclaw-sender": "user/1", "x-openclaw-account": "site" }, "web");
    assert.equal(web.status, 200, web.body);
    assert.equal((await show(web.sessionId ?? "")).key, "dm:web:site:user/1");
    for (const headers of [{ "x-openclaw-channel": "web", "x-openclaw-sender": "../../x" }, { "x-openclaw-session-key": "dm:web:../../x" }]) {
      const bad = await chat(headers, "x");
      assert.equal(bad.status, 400, bad.body);
    }
  });

  it("linked identities share one DM session through hooks and /v1; participants show the person", async () => {
    const a = await hook({ channel: "telegram", senderId: "123", accountId: "bot", text: "from telegram" });
    const b = await chat({ "x-openclaw-channel": "discord", "x-openclaw-sender": "987", "x-openclaw-account": "bot" }, "from discord");
    assert.equal(b.status, 200, b.body);
    assert.equal(a.key, "dm:linked:bot:person-1");
    assert.equal(b.sessionId, a.sessionId);
    const doc = await show(a.sessionId);
    assert.deepEqual(doc.participants, ["person-1"]);
    assert.deepEqual(
      doc.messages.filter((m) => m.role === "user").map((m) => [m.sender, m.channel]),
      [
        ["123", "telegram"],
        ["987", "discord"],
      ],
    );
  });

  it("x-openclaw-thread gives a thread its own session under its parent, asked with the parent's system prompt", async () => {
    const parent = await hook({ channel: "slack", senderId: "U1", groupId: "C1", text: "the main conversation" });
    const set = await runCli(["--state-dir", gw.stateDir, ...store, "sessions", "set", parent.sessionId, "--system", "Answer like a pirate."], gw.home);
    assert.equal(set.code, 0, set.stderr);
    const r = await chat({ "x-openclaw-channel": "slack", "x-openclaw-sender": "U2", "x-openclaw-group": "C1", "x-openclaw-thread": "T5" }, "in the thread");
    assert.equal(r.status, 200, r.body);
    const thread = await show(r.sessionId ?? "");
    assert.equal(thread.key, "group:slack:C1:thread:T5");
    const sent = upstream.requests.at(-1)?.body.messages.map((m) => [m.role, m.content]);
    assert.deepEqual(
      sent,
      [
        ["system", "Answer like a pirate."],
        ["user", "[U2]: in the thread"],
      ],
      "the thread has the parent's settings, not its history",
    );
    const byHook = await hook({ channel: "slack", senderId: "U3", groupId: "C1", threadId: "T5", text: "same thread" });
    assert.equal(byHook.sessionId, thread.id);
  });

  it("display name and subject headers (percent-encoded UTF-8) and hook fields become the session's origin; the admin API sets a label", async () => {
    const r = await chat(
      { "x-openclaw-channel": "whatsapp", "x-openclaw-sender": "4917", "x-openclaw-group": "G1", "x-openclaw-display-name": encodeURIComponent("Zoë"), "x-openclaw-subject": encodeURIComponent("Family 👪") },
      "hi all",
    );
    assert.equal(r.status, 200, r.body);
    assert.deepEqual((await show(r.sessionId ?? "")).origin, { channel: "whatsapp", subject: "Family 👪" });
    const dm = await chat({ "x-openclaw-channel": "whatsapp", "x-openclaw-sender": "4917", "x-openclaw-display-name": encodeURIComponent("Zoë") }, "just us");
    assert.equal(dm.status, 200, dm.body);
    assert.deepEqual((await show(dm.sessionId ?? "")).origin, { channel: "whatsapp", displayName: "Zoë" }, "a DM is named by the person's display name");
    const viaHook = await hook({ channel: "whatsapp", senderId: "4918", groupId: "G1", subject: "Family (renamed)", text: "hello" });
    assert.equal(viaHook.sessionId, r.sessionId);
    assert.equal((await show(viaHook.sessionId)).origin?.subject, "Family (renamed)", "a renamed group's subject is stored");
    const bad = await chat({ "x-openclaw-channel": "whatsapp", "x-openclaw-sender": "4917", "x-openclaw-display-name": "%E0%A4%A" }, "hi");
    assert.equal(bad.status, 400, bad.body);

    const admin = (path: string, init: RequestInit = {}) => fetch(`${gw.url}${path}`, { ...init, headers: { authorization: `Bearer ${gw.token}`, "content-type": "application/json" } });
    const patched = await admin(`/admin/sessions/${viaHook.sessionId}`, { method: "PATCH", body: JSON.stringify({ label: "Family chat" }) });
    assert.equal(patched.status, 200, await patched.clone().text());
    assert.equal(((await patched.json()) as Session).label, "Family chat");
    const listed = (await (await admin("/admin/sessions?kind=group")).json()) as { sessions: Array<{ id: string; label: string | null; origin: { subject?: string } | null }> };
    const row = listed.sessions.find((s) => s.id === viaHook.sessionId);
    assert.deepEqual([row?.label, row?.origin?.subject], ["Family chat", "Family (renamed)"]);
  });
});
