import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseConfig } from "../../src/config/load.js";
import { openTestManager } from "../helpers/manager-open.js";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

type Env = Awaited<ReturnType<typeof openTestManager>>;

/** A session as `POST /v1/responses` makes one for a request that continued nothing, answered `replies` times. */
async function responseSession(env: Env, replies: number): Promise<string> {
  const m = env.manager;
  const s = await m.create({ key: `isolated:response:${crypto.randomUUID()}@alice` });
  for (let i = 0; i < replies; i++) {
    await m.record({ ref: s.id }, { role: "user", content: `question ${i}`, sender: null });
    await m.record({ ref: s.id }, { role: "assistant", content: `answer ${i}`, sender: null }, { usage: { input: 3, output: 2, total: 5 } });
  }
  return s.id;
}

describe("one-off Responses sessions (gateway.responses.oneOffTtl)", () => {
  it("a one-off expires after the ttl; a continued one follows the normal policy; other sessions are untouched", async () => {
    const env = await openTestManager({ config: { sessions: { expirationMs: 24 * HOUR }, gateway: { responses: { oneOffTtl: "1h" } } } });
    try {
      const m = env.manager;
      const oneOff = await responseSession(env, 1);
      const continued = await responseSession(env, 2);
      const dm = (await m.receive({ channel: "web", senderId: "u1" }, "hello")).id;
      env.advance(59 * MINUTE);
      assert.equal((await m.get(oneOff)).status, "active");
      env.advance(2 * MINUTE);
      assert.equal((await m.get(oneOff)).status, "expired");
      assert.equal((await m.get(continued)).status, "active");
      assert.equal((await m.get(dm)).status, "active");
      await assert.rejects(m.record({ ref: oneOff }, { role: "user", content: "too late", sender: null }), { code: "SESSION_EXPIRED" });
      env.advance(24 * HOUR);
      assert.equal((await m.get(continued)).status, "expired", "the normal idle expiry still applies");
    } finally {
      await env.cleanup();
    }
  });

  it("continuing a one-off before its ttl keeps it alive past the ttl", async () => {
    const env = await openTestManager({ config: { gateway: { responses: { oneOffTtl: "1h" } } } });
    try {
      const m = env.manager;
      const id = await responseSession(env, 1);
      env.advance(50 * MINUTE);
      await m.record({ ref: id }, { role: "user", content: "and then?", sender: null });
      await m.record({ ref: id }, { role: "assistant", content: "then this", sender: null }, { usage: { input: 3, output: 2, total: 5 } });
      env.advance(3 * HOUR);
      assert.equal((await m.get(id)).status, "active");
      assert.equal((await m.prune()).deleted.length, 0);
    } finally {
      await env.cleanup();
    }
  });

  it("retention deletes expired one-offs with every maintenance rule off, and nothing else", async () => {
    const env = await openTestManager({ config: { sessions: { expirationMs: HOUR }, gateway: { responses: { oneOffTtl: "30m" } } } });
    try {
      const m = env.manager;
      const oneOff = await responseSession(env, 1);
      const continued = await responseSession(env, 2);
      const dm = (await m.receive({ channel: "web", senderId: "u1" }, "hello")).id;
      env.advance(20 * MINUTE);
      const fresh = await responseSession(env, 1);
      env.advance(15 * MINUTE);
      const dry = await m.prune({ dryRun: true });
      assert.deepEqual(
        dry.deleted.map((t) => [t.id, t.reason]),
        [[oneOff, "oneOffTtl"]],
      );
      const done = await m.prune();
      assert.deepEqual(
        done.deleted.map((t) => t.id),
        [oneOff],
      );
      await assert.rejects(m.get(oneOff), { code: "NOT_FOUND" });
      // Two hours on, every session has expired: only the one-off goes; expired sessions otherwise stay (no rule deletes them).
      env.advance(2 * HOUR);
      assert.deepEqual(
        (await m.prune()).deleted.map((t) => t.id),
        [fresh],
      );
      const left = (await m.list({ status: "all" })).items.map((s) => s.id).sort();
      assert.deepEqual(left, [continued, dm].sort());
    } finally {
      await env.cleanup();
    }
  });

  it("null turns the rule off: a one-off lives and goes as any session", async () => {
    const env = await openTestManager({ config: { sessions: { expirationMs: 24 * HOUR }, gateway: { responses: { oneOffTtl: null } } } });
    try {
      const id = await responseSession(env, 1);
      env.advance(2 * HOUR);
      assert.equal((await env.manager.get(id)).status, "active");
      env.advance(23 * HOUR);
      assert.equal((await env.manager.get(id)).status, "expired");
      assert.equal((await env.manager.prune()).deleted.length, 0);
    } finally {
      await env.cleanup();
    }
  });

  it("the ttl is a duration of at least a minute, 24h by default", () => {
    const ttl = (value: unknown) => parseConfig(JSON.stringify(value), "config.json").config.gateway.responses.oneOffTtl;
    assert.equal(ttl({}), 24 * HOUR);
    assert.equal(ttl({ gateway: { responses: { oneOffTtl: "90m" } } }), 90 * MINUTE);
    for (const short of ["30s", 1000]) assert.throws(() => ttl({ gateway: { responses: { oneOffTtl: short } } }), /config\.json: gateway\.responses\.oneOffTtl: expected a duration of at least a minute/);
    for (const bad of ["soon", -1]) assert.throws(() => ttl({ gateway: { responses: { oneOffTtl: bad } } }), /config\.json: gateway\.responses\.oneOffTtl: expected a duration/);
  });
});
