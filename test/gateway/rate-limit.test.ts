import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import OpenAI from "openai";
import { isOpenclawError, type OpenclawError } from "../../src/errors.js";
import { RateLimiter, TokenBuckets } from "../../src/gateway/_rate-limit.js";
import { startFakeUpstream, type FakeUpstream } from "../helpers/fake-upstream.js";
import { startGatewayProcess, type GatewayProcess } from "../helpers/gateway-process.js";

/** The RATE_LIMITED error `check` throws (fails when it does not throw). */
function refusal(check: () => void): OpenclawError {
  try {
    check();
  } catch (err) {
    assert.ok(isOpenclawError(err, "RATE_LIMITED"), String(err));
    return err;
  }
  assert.fail("expected RATE_LIMITED");
}

describe("token buckets", () => {
  it("a key gets its burst at once, then one request per refill interval", () => {
    const b = new TokenBuckets({ requestsPerMinute: 60, burst: 3 });
    for (let i = 0; i < 3; i++) {
      assert.equal(b.wait("k", 0), 0);
      b.take("k", 0);
    }
    assert.equal(b.wait("k", 0), 1000);
    assert.equal(b.wait("k", 400), 600);
    assert.equal(b.wait("k", 1000), 0);
    b.take("k", 1000);
    assert.equal(b.wait("k", 1000), 1000, "the refilled token was spent");
  });

  it("the burst defaults to the rate per minute, and keys do not share tokens", () => {
    const b = new TokenBuckets({ requestsPerMinute: 2 });
    b.take("a", 0);
    b.take("a", 0);
    assert.equal(b.wait("a", 0), 30_000);
    assert.equal(b.wait("b", 0), 0);
  });

  it("memory stays bounded: refilled buckets are dropped as the table is used, and it never exceeds its cap", () => {
    const b = new TokenBuckets({ requestsPerMinute: 60, burst: 2 }, 100);
    for (let i = 0; i < 1_000; i++) {
      b.take(`burst-${i}`, 0);
      assert.ok(b.size <= 100, `${b.size} keys`);
    }
    // A minute later every bucket has refilled: using the table drops them.
    for (let i = 0; i < 100; i++) b.take(`later-${i % 3}`, 60_000 + i);
    assert.ok(b.size <= 3, `${b.size} keys left`);
  });
});

describe("rate limiter", () => {
  it("a request refused for its sender spends nothing from its credential; another credential and sender are unaffected", () => {
    const now = 0;
    const limits = new RateLimiter({ perCredential: { requestsPerMinute: 60, burst: 2 }, perSender: { requestsPerMinute: 6, burst: 1 } }, () => now);
    limits.check("bot", "telegram:1");
    const bySender = refusal(() => limits.check("bot", "telegram:1"));
    assert.equal(bySender.retryAfterSeconds, 10, "6 a minute: one every 10 s");
    assert.match(bySender.message, /sender telegram:1/);
    limits.check("bot", "telegram:2");
    const byCredential = refusal(() => limits.check("bot", "telegram:3"));
    assert.equal(byCredential.retryAfterSeconds, 1);
    assert.match(byCredential.message, /credential bot/);
    limits.check("other", "telegram:3");
    limits.check("other", undefined);
  });

  it("is off without configured limits", () => {
    const limits = new RateLimiter({});
    assert.equal(limits.enabled, false);
    for (let i = 0; i < 1_000; i++) limits.check("c", "s");
  });
});

describe("gateway: rate limits", () => {
  let upstream: FakeUpstream;
  let gw: GatewayProcess;
  let client: OpenAI;
  const SENDER_BURST = 2;
  const SECOND_TOKEN = "second-token-0123456789abcdef";

  before(async () => {
    upstream = await startFakeUpstream();
    gw = await startGatewayProcess({
      gateway: {
        model: { baseUrl: upstream.baseUrl, model: "fake-model", maxRetries: 0 },
        rateLimits: { perSender: { requestsPerMinute: 6, burst: SENDER_BURST }, perCredential: { requestsPerMinute: 1, burst: 12 } },
        auth: { tokens: [{ name: "second", token: SECOND_TOKEN, scopes: ["chat"] }] },
      },
    });
    client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: gw.token, maxRetries: 0 });
  });
  after(async () => {
    await gw.stop();
    await upstream.close();
  });

  const post = (path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> =>
    fetch(`${gw.url}${path}`, { method: "POST", headers: { authorization: `Bearer ${gw.token}`, "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
  const ask = (headers: Record<string, string>): Promise<Response> => post("/v1/chat/completions", { model: "fake-model", messages: [{ role: "user", content: "hi" }] }, headers);

  /** A 429 in the OpenAI error shape with a Retry-After in whole seconds. */
  const assertLimited = async (res: Response, who: RegExp): Promise<void> => {
    assert.equal(res.status, 429);
    const retryAfter = res.headers.get("retry-after") ?? "";
    assert.match(retryAfter, /^\d+$/);
    assert.ok(Number(retryAfter) >= 1 && Number(retryAfter) <= 60, retryAfter);
    const body = (await res.json()) as { error: { message: string; type: string; code: string; param: null } };
    assert.equal(body.error.type, "rate_limit_error");
    assert.equal(body.error.code, "rate_limited");
    assert.match(body.error.message, who);
  };

  it("a sender past its burst gets 429 with Retry-After; another sender is unaffected", async () => {
    const alice = { "x-openclaw-channel": "telegram", "x-openclaw-sender": "alice" };
    for (let i = 0; i < SENDER_BURST; i++) assert.equal((await ask(alice)).status, 200);
    await assertLimited(await ask(alice), /sender telegram:alice/);
    // Naming the same user by her dm key counts against the same bucket.
    await assertLimited(await ask({ "x-openclaw-session-key": "dm:telegram:alice" }), /sender telegram:alice/);
    await assert.rejects(client.chat.completions.create({ model: "fake-model", messages: [{ role: "user", content: "hi" }] }, { headers: alice }), OpenAI.RateLimitError);
    assert.equal((await ask({ "x-openclaw-channel": "telegram", "x-openclaw-sender": "bob" })).status, 200);
  });

  it("/hooks/inbound limits the sender named in its body", async () => {
    const hook = (senderId: string) => post("/hooks/inbound", { channel: "whatsapp", senderId, text: "hello" });
    for (let i = 0; i < SENDER_BURST; i++) assert.equal((await hook("carol")).status, 200);
    await assertLimited(await hook("carol"), /sender whatsapp:carol/);
    assert.equal((await hook("dave")).status, 200);
  });

  it("a credential past its burst is refused on /v1 and /hooks, stateless requests included; another credential and /admin are unaffected", async () => {
    let refused: Response | undefined;
    for (let i = 0; i < 20 && refused === undefined; i++) {
      const res = await ask({});
      if (res.status === 429) refused = res;
      else assert.equal(res.status, 200);
    }
    assert.ok(refused !== undefined, "refused within 20 requests");
    await assertLimited(refused, /credential default/);
    await assertLimited(await post("/hooks/inbound", { channel: "whatsapp", senderId: "erin", text: "hello" }), /credential default/);
    assert.equal((await ask({ authorization: `Bearer ${SECOND_TOKEN}` })).status, 200, "the other credential has its own bucket");
    const status = await fetch(`${gw.url}/admin/status`, { headers: { authorization: `Bearer ${gw.token}` } });
    assert.equal(status.status, 200);
  });
});
