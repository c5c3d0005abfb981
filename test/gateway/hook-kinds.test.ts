import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startFakeUpstream, type FakeUpstream } from "../helpers/fake-upstream.js";
import { startGatewayProcess, type GatewayProcess } from "../helpers/gateway-process.js";
import { testStoreUri } from "../helpers/test-store.js";

// On the backend under test (OPENCLAW_TEST_STORE): the CLI calls share the gateway's config, so its store.
const storeUri = testStoreUri();
const backend = storeUri === undefined ? {} : { storage: { uri: storeUri } };

type Reply = { sessionId: string; key: string; reply: { content: string } };

describe("gateway: POST /hooks/inbound with kind hook and job", () => {
  let upstream: FakeUpstream;
  let gw: GatewayProcess;
  const post = (body: unknown): Promise<Response> => fetch(`${gw.url}/hooks/inbound`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${gw.token}` }, body: JSON.stringify(body) });
  const ok = async (body: unknown): Promise<Reply> => {
    const r = await post(body);
    const text = await r.text();
    assert.equal(r.status, 200, text);
    return JSON.parse(text) as Reply;
  };

  before(async () => {
    upstream = await startFakeUpstream();
    gw = await startGatewayProcess({ gateway: { model: { baseUrl: upstream.baseUrl, model: "fake-model", maxRetries: 0 } }, ...backend });
  });
  after(async () => {
    assert.equal(await gw.stop(), 0);
    await upstream.close();
  });

  it("kind hook: one session per hook name, whose context holds only that hook's messages", async () => {
    const a = await ok({ kind: "hook", name: "github", text: "push to main by ada" });
    await ok({ channel: "telegram", senderId: "github", text: "a user who happens to be called github" });
    const b = await ok({ kind: "hook", name: "github", text: "PR #7 merged" });
    assert.deepEqual([a.key, b.sessionId], ["hook:github", a.sessionId]);
    assert.deepEqual(
      upstream.requests.at(-1)?.body.messages.map((m) => m.content),
      ["push to main by ada", "echo: push to main by ada", "PR #7 merged"],
    );
    const other = await ok({ kind: "hook", name: "gmail", text: "new mail" });
    assert.notEqual(other.sessionId, a.sessionId);
  });

  it("kind job: a fresh session per run, key job:<name>:<run>", async () => {
    const r1 = await ok({ kind: "job", name: "nightly", run: "2026-12-06", text: "summarise the day" });
    const r1b = await ok({ kind: "job", name: "nightly", run: "2026-12-06", text: "and the tickets" });
    const r2 = await ok({ kind: "job", name: "nightly", run: "2026-12-07", text: "summarise the day" });
    assert.deepEqual([r1.key, r1b.sessionId, r2.key], ["job:nightly:2026-12-06", r1.sessionId, "job:nightly:2026-12-07"]);
    assert.notEqual(r2.sessionId, r1.sessionId);
    assert.deepEqual(
      upstream.requests.at(-1)?.body.messages.map((m) => m.content),
      ["summarise the day"],
      "a new run starts from nothing",
    );
    const anonymous = await ok({ kind: "job", name: "nightly", text: "no run id" });
    assert.match(anonymous.key, /^job:nightly:[0-9a-f-]{36}$/);
  });

  it("refuses what does not fit the kind, with a 400 that says why", async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ kind: "webhook", name: "x", text: "t" }, /kind must be "message", "hook" or "job"/],
      [{ kind: "hook", text: "t" }, /name is required/],
      [{ kind: "hook", name: "x", run: "1", text: "t" }, /run only applies with kind "job"/],
      [{ kind: "job", name: "x", groupId: "C1", text: "t" }, /groupId does not apply with kind "job"/],
      [{ channel: "telegram", senderId: "1", name: "x", text: "t" }, /name only applies with kind "hook" or "job"/],
      [{ kind: "hook", name: "bad name", text: "t" }, /invalid hook name "bad name"/],
    ];
    for (const [body, message] of cases) {
      const r = await post(body);
      const parsed = (await r.json()) as { error: { message: string } };
      assert.equal(r.status, 400, JSON.stringify(parsed));
      assert.match(parsed.error.message, message);
    }
  });
});
