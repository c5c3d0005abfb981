import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Session } from "../../src/session/types.js";
import { startFakeUpstream, type FakeUpstream } from "../helpers/fake-upstream.js";
import { startGatewayProcess, type GatewayProcess } from "../helpers/gateway-process.js";

async function waitFor(what: string, check: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** How many turns the gateway has noted arriving in its queue (its debug log's turn_queued lines). */
function queuedLines(gw: GatewayProcess): number {
  return gw
    .stderr()
    .split("\n")
    .filter((l) => l.includes('"event":"turn_queued"')).length;
}

describe("gateway: turns waiting for a busy session are bounded", () => {
  let upstream: FakeUpstream;
  /** Tight bounds, to see them refuse. */
  let gw: GatewayProcess;
  /** The default bounds, so a turn waits as long as the one before it takes. */
  let roomy: GatewayProcess;

  before(async () => {
    upstream = await startFakeUpstream();
    const model = { baseUrl: upstream.baseUrl, model: "fake-model", maxRetries: 0 };
    gw = await startGatewayProcess({ gateway: { model, turnQueue: { maxWaitMs: 1_000, maxQueued: 2 } } }, { args: ["--log-format", "json", "--log-level", "debug"] });
    roomy = await startGatewayProcess({ gateway: { model } }, { args: ["--log-format", "json", "--log-level", "debug"] });
  });
  after(async () => {
    await gw.stop();
    await roomy.stop();
    await upstream.close();
  });

  const ask = (key: string, content: string, signal?: AbortSignal, to: GatewayProcess = gw): Promise<Response> =>
    fetch(`${to.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${to.token}`, "content-type": "application/json", "x-openclaw-session-key": key },
      body: JSON.stringify({ model: "m", messages: [{ role: "user", content }] }),
      ...(signal ? { signal } : {}),
    });
  const session = async (key: string, from: GatewayProcess = gw): Promise<Session> =>
    (await (await fetch(`${from.url}/admin/sessions/${encodeURIComponent(key)}`, { headers: { authorization: `Bearer ${from.token}` } })).json()) as Session;

  it("past maxQueued waiting turns a request is refused at once, and a turn that waits past maxWaitMs is refused: 429, Retry-After, the OpenAI error shape, nothing recorded", async () => {
    const key = "dm:queue:busy";
    const asked = upstream.requests.length;
    upstream.replyDelayMs = 4_000;
    let running: Promise<Response>;
    try {
      running = ask(key, "first");
      await waitFor("the first turn to reach the model", () => upstream.requests.length > asked);
    } finally {
      upstream.replyDelayMs = 0;
    }
    const noted = queuedLines(gw);
    const queued = [ask(key, "second"), ask(key, "third")];
    // Once both wait in the queue, a later request is one waiter too many.
    await waitFor("both turns to wait in the queue", () => queuedLines(gw) >= noted + 2);
    const started = Date.now();
    const refused = await ask(key, "one too many");
    assert.equal(refused.status, 429);
    assert.ok(Date.now() - started < 1_000, "refused without waiting out maxWaitMs");
    assert.ok(Number(refused.headers.get("retry-after")) >= 1, `Retry-After: ${refused.headers.get("retry-after")}`);
    const body = (await refused.json()) as { error: { type: string; code: string; message: string } };
    assert.equal(body.error.type, "rate_limit_error");
    assert.equal(body.error.code, "session_busy");
    assert.match(body.error.message, /maxQueued/);
    for (const p of queued) {
      const r = await p;
      assert.equal(r.status, 429, "a turn that waited longer than maxWaitMs is refused");
      assert.ok(Number(r.headers.get("retry-after")) >= 1);
      assert.match(((await r.json()) as { error: { message: string } }).error.message, /maxWaitMs/);
    }
    assert.equal((await running).status, 200);
    const s = await session(key);
    assert.deepEqual(
      s.messages.map((m) => m.content),
      ["first", "echo: first"],
      "refused turns recorded nothing",
    );
    assert.equal(upstream.requests.length - asked, 1);
  });

  it("a queued turn whose client has gone is not run: its question is recorded when its turn comes, the model is not asked", async () => {
    const key = "dm:queue:gone";
    const asked = upstream.requests.length;
    upstream.replyDelayMs = 2_000;
    let running: Promise<Response>;
    try {
      running = ask(key, "first", undefined, roomy);
      await waitFor("the first turn to reach the model", () => upstream.requests.length > asked);
    } finally {
      upstream.replyDelayMs = 0;
    }
    const gone = new AbortController();
    const noted = queuedLines(roomy);
    const queued = ask(key, "asked, then gone", gone.signal, roomy);
    await waitFor("the turn to wait in the queue", () => queuedLines(roomy) > noted);
    gone.abort();
    await assert.rejects(queued);
    assert.equal((await running).status, 200);
    await waitFor("the gone client's question to be recorded", async () => (await session(key, roomy)).messages.length >= 3);
    const s = await session(key, roomy);
    assert.deepEqual(
      s.messages.map((m) => [m.role, m.content]),
      [
        ["user", "first"],
        ["assistant", "echo: first"],
        ["user", "asked, then gone"],
      ],
    );
    assert.equal(upstream.requests.length - asked, 1, "the model was not asked for the gone client");
    // The session takes the next turn normally, with the unanswered question in its context.
    const next = await ask(key, "next", undefined, roomy);
    assert.equal(next.status, 200);
    assert.equal(upstream.requests.at(-1)?.body.messages.filter((m) => m.role === "user").length, 3);
  });
});
