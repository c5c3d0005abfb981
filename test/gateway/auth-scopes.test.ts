import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, describe, it } from "node:test";
import OpenAI from "openai";
import type { Session } from "../../src/session/types.js";
import { runCli } from "../helpers/cli-run.js";
import { startFakeUpstream, type FakeUpstream } from "../helpers/fake-upstream.js";
import { startGatewayProcess, type GatewayProcess } from "../helpers/gateway-process.js";

const ALICE = "alice-chat-token-0123456789";
const BOB = "bob-chat-token-0123456789ab";
const ROUTER = "router-token-0123456789abcd";
const HOOKS = "hooks-token-0123456789abcde";
const READER = "reader-token-0123456789abcd";
const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

const hexOf = (uuid: string) => uuid.replace(/-/g, "");
const uuidOf = (hex: string) => `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
type ErrorBody = { error: { message: string; type: string; code: string } };

describe("gateway: scoped credentials and who may open which session", () => {
  let upstream: FakeUpstream;
  let gw: GatewayProcess;
  let admin: OpenAI;
  let alice: OpenAI;
  let bob: OpenAI;
  let router: OpenAI;
  const clientFor = (token: string) => new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: token, maxRetries: 0 });
  const show = async (ref: string) => JSON.parse((await runCli(["--state-dir", gw.stateDir, "sessions", "show", ref, "--json"], gw.home)).stdout) as Session;
  const call = (path: string, token: string, init: RequestInit = {}) =>
    fetch(`${gw.url}${path}`, { ...init, headers: { authorization: `Bearer ${token}`, "content-type": "application/json", ...(init.headers as Record<string, string> | undefined) } });
  /** The session of dm:telegram:42, seeded by the router with something private. */
  let dm: Session;

  before(async () => {
    upstream = await startFakeUpstream();
    gw = await startGatewayProcess(
      {
        gateway: {
          model: { baseUrl: upstream.baseUrl, model: "fake-model", maxRetries: 0 },
          auth: {
            tokens: [
              { name: "alice", token: ALICE, scopes: ["chat"] },
              { name: "bob", tokenSha256: sha256(BOB), scopes: ["chat"] },
              { name: "router", tokenEnv: "ROUTER_TOKEN", scopes: ["chat", "route"] },
              { name: "hooker", token: HOOKS, scopes: ["hooks"] },
              { name: "reader", token: READER, scopes: ["admin:read"] },
            ],
          },
        },
      },
      { env: { ROUTER_TOKEN: ROUTER } },
    );
    admin = clientFor(gw.token);
    alice = clientFor(ALICE);
    bob = clientFor(BOB);
    router = clientFor(ROUTER);
    await router.chat.completions.create({ model: "m", messages: [{ role: "user", content: "my PIN is 4711" }] }, { headers: { "x-openclaw-session-key": "dm:telegram:42" } });
    dm = await show("dm:telegram:42");
  });
  after(async () => {
    await gw?.stop();
    await upstream?.close();
  });

  it("a chat-only token may not name a session by key or channel + sender; a route token may", async () => {
    const before = upstream.requests.length;
    for (const headers of [{ "x-openclaw-session-key": "dm:telegram:42" }, { "x-openclaw-channel": "telegram", "x-openclaw-sender": "42" }]) {
      await assert.rejects(alice.chat.completions.create({ model: "m", messages: [{ role: "user", content: "what is my PIN?" }] }, { headers }), (err: unknown) => {
        assert.ok(err instanceof OpenAI.PermissionDeniedError, String(err));
        assert.match(err.message, /route scope/);
        return true;
      });
    }
    assert.equal(upstream.requests.length, before, "the model never saw the other user's history");
    assert.equal((await show("dm:telegram:42")).messages.length, 2, "nothing was recorded in the DM");
    // Stateless chat stays open to a chat token.
    const r = await alice.chat.completions.create({ model: "m", messages: [{ role: "user", content: "hi there" }] });
    assert.equal(r.choices[0]?.message.content, "echo: hi there");
    const routed = await router.chat.completions.create({ model: "m", messages: [{ role: "user", content: "again" }] }, { headers: { "x-openclaw-channel": "telegram", "x-openclaw-sender": "42" } });
    assert.match(routed.choices[0]?.message.content ?? "", /again/);
    assert.equal((await show("dm:telegram:42")).messages.length, 4);
  });

  it("a chat token opens only the conversations it created; DM sessions only with route or admin scope", async () => {
    const mine = await alice.conversations.create({ items: [{ role: "user", content: "alice's note" }] });
    // The key carries the session's own id and its creator.
    assert.equal((await show(uuidOf(mine.id.slice(5)))).key, `isolated:conversation:${uuidOf(mine.id.slice(5))}@alice`);
    assert.equal((await alice.conversations.items.list(mine.id)).data.length, 1);
    await assert.rejects(bob.conversations.retrieve(mine.id), OpenAI.NotFoundError);
    await assert.rejects(bob.conversations.items.list(mine.id), OpenAI.NotFoundError);
    await assert.rejects(bob.conversations.update(mine.id, { metadata: { x: "y" } }), OpenAI.NotFoundError);
    await assert.rejects(bob.conversations.items.create(mine.id, { items: [{ type: "message", role: "user", content: "planted" }] }), OpenAI.NotFoundError);
    await assert.rejects(bob.conversations.delete(mine.id), OpenAI.NotFoundError);
    assert.equal((await alice.conversations.items.list(mine.id)).data.length, 1, "bob changed nothing");

    const dmConv = `conv_${hexOf(dm.id)}`;
    await assert.rejects(alice.conversations.items.list(dmConv), OpenAI.NotFoundError);
    await assert.rejects(alice.conversations.delete(dmConv), OpenAI.NotFoundError);
    await assert.rejects(alice.responses.create({ model: "m", conversation: dmConv, input: "what is my PIN?" }), OpenAI.NotFoundError);
    assert.equal((await show(dm.id)).status, "active", "the DM session is still there");
    const items = await router.conversations.items.list(dmConv, { order: "asc" });
    assert.ok(JSON.stringify(items.data).includes("my PIN is 4711"), "route reads the DM");
    assert.ok(JSON.stringify((await admin.conversations.items.list(dmConv)).data).includes("my PIN is 4711"), "the all-scopes token reads it too");
  });

  it("previous_response_id must name a reply its session produced, in a session the caller may open", async () => {
    const first = await alice.responses.create({ model: "m", input: "remember ORD-7" });
    const session = await show(uuidOf(first.id.slice(5, 37)));
    assert.equal(session.key, `isolated:response:${session.id}@alice`);
    const user = session.messages.find((m) => m.role === "user");
    assert.ok(user);
    const forged = [
      // Alice's own session, but a message that is not a reply.
      `resp_${hexOf(session.id)}_${hexOf(user.id)}`,
      // Alice's own session, a reply that was never produced.
      `resp_${hexOf(session.id)}_${hexOf("0190d8a4-0000-7000-8000-000000000000")}`,
      // The DM session's real reply.
      `resp_${hexOf(dm.id)}_${hexOf(dm.messages.find((m) => m.role === "assistant")?.id ?? "")}`,
    ];
    for (const id of forged) {
      await assert.rejects(alice.responses.create({ model: "m", previous_response_id: id, input: "go on" }), (err: unknown) => err instanceof OpenAI.BadRequestError && /not found/.test(err.message), id);
    }
    await assert.rejects(bob.responses.create({ model: "m", previous_response_id: first.id, input: "what was the order?" }), OpenAI.BadRequestError);
    assert.equal((await show(dm.id)).messages.length, dm.messages.length + 2, "only the router's turn landed in the DM");
    const next = await alice.responses.create({ model: "m", previous_response_id: first.id, input: "and now?" });
    assert.equal(next.output_text, "echo: and now?");
    assert.equal((await show(session.id)).messages.length, 4);
  });

  it("the same idempotency key from two credentials opens two sessions", async () => {
    const a = await alice.responses.create({ model: "m", input: "same key" }, { headers: { "idempotency-key": "k-1" } });
    const b = await bob.responses.create({ model: "m", input: "same key" }, { headers: { "idempotency-key": "k-1" } });
    assert.notEqual(a.id.slice(5, 37), b.id.slice(5, 37));
    const again = await alice.responses.create({ model: "m", input: "same key" }, { headers: { "idempotency-key": "k-1" } });
    assert.equal(again.id, a.id, "a retry still lands in its own session");
  });

  it("each surface asks for its scope and answers 403 naming it; tokenSha256 and tokenEnv credentials work", async () => {
    const refused = async (path: string, token: string, scope: RegExp, init: RequestInit = {}) => {
      const r = await call(path, token, init);
      const body = (await r.json()) as ErrorBody;
      assert.equal(r.status, 403, `${path}: ${JSON.stringify(body)}`);
      assert.equal(body.error.code, "forbidden");
      assert.match(body.error.message, scope);
    };
    await refused("/v1/models", HOOKS, /chat or route scope/);
    await refused("/admin/sessions", ALICE, /admin:read scope/);
    await refused("/hooks/inbound", ALICE, /hooks scope/, { method: "POST", body: JSON.stringify({ channel: "t", senderId: "1", text: "x" }) });
    await refused(`/admin/sessions/${dm.id}/archive`, READER, /admin:write scope/, { method: "POST" });
    assert.equal((await call("/admin/sessions", READER)).status, 200);
    assert.equal((await call("/v1/models", BOB)).status, 200, "a tokenSha256 credential");
    assert.equal((await call("/v1/models", ROUTER)).status, 200, "a tokenEnv credential");
    const hook = await call("/hooks/inbound", HOOKS, { method: "POST", body: JSON.stringify({ channel: "t", senderId: "1", text: "hello" }) });
    assert.equal(hook.status, 200, await hook.text());
    assert.equal((await call("/v1/models", "not-a-token-at-all-000000")).status, 401);
  });

  it("logs every refused request with its reason and credential, never the token", async () => {
    await call("/v1/models", "stolen-token-guess-0000000");
    await call("/admin/status", ALICE);
    const lines = gw
      .stderr()
      .split("\n")
      .filter((l) => l.includes('"auth_failure"'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.ok(
      lines.some((l) => l.status === 401 && l.reason === "invalid bearer token" && l.method === "GET" && typeof l.remote === "string"),
      JSON.stringify(lines),
    );
    assert.ok(
      lines.some((l) => l.status === 403 && /admin:read/.test(String(l.reason)) && l.credential === "alice"),
      JSON.stringify(lines),
    );
    assert.doesNotMatch(gw.stderr(), /stolen-token-guess|alice-chat-token/);
  });
});
