import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ActivityLog, type ActivityReport } from "../../src/gateway/_activity.js";
import { startGateway, type Gateway, type GatewayLog } from "../../src/gateway/server.js";
import { SessionManager } from "../../src/manager/manager.js";
import { startFakeUpstream, type FakeUpstream } from "../helpers/fake-upstream.js";

const TOKEN = "a-token-of-some-length-0123456789";
const READER = "reader-token-0123456789abcd";
const CHATTER = "chatter-token-0123456789abc";
const quiet = (): GatewayLog => ({ debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, child: () => quiet() });
const MINUTE = 60_000;
const T0 = Date.parse("2026-03-01T12:00:00.000Z");
const turn = (ms: number, extra: Partial<{ failed: boolean; promptTokens: number; completionTokens: number }> = {}) => ({ ms, failed: false, promptTokens: 0, completionTokens: 0, ...extra });

describe("activity log: the last hour of turns per minute", () => {
  it("has sixty one-minute buckets, oldest first, the last one the minute under way", () => {
    const log = new ActivityLog();
    const now = T0 + 30_000;
    const r = log.report(now);
    assert.equal(r.bucketSeconds, 60);
    assert.equal(r.buckets.length, 60);
    assert.equal(r.now, new Date(now).toISOString());
    assert.equal(r.buckets.at(-1)?.start, "2026-03-01T12:00:00.000Z");
    assert.equal(r.buckets[0]?.start, "2026-03-01T11:01:00.000Z");
    for (let i = 1; i < 60; i++) assert.equal(Date.parse(r.buckets[i]?.start ?? "") - Date.parse(r.buckets[i - 1]?.start ?? ""), MINUTE);
    assert.deepEqual(r.buckets[10], { start: r.buckets[10]?.start, turns: 0, errors: 0, latencyP50Ms: null, latencyP95Ms: null, promptTokens: 0, completionTokens: 0 });
  });

  it("counts turns, errors and tokens in the minute they ended, with the median and 95th percentile of their durations", () => {
    const log = new ActivityLog();
    for (let i = 1; i <= 20; i++) log.record(T0 + i * 1000, turn(i * 10, { promptTokens: 3, completionTokens: 2, failed: i % 10 === 0 }));
    log.record(T0 + MINUTE + 5, turn(7));
    const r = log.report(T0 + MINUTE + 10);
    const [previous, current] = r.buckets.slice(-2);
    assert.deepEqual(previous, { start: new Date(T0).toISOString(), turns: 20, errors: 2, latencyP50Ms: 100, latencyP95Ms: 190, promptTokens: 60, completionTokens: 40 });
    assert.deepEqual(current, { start: new Date(T0 + MINUTE).toISOString(), turns: 1, errors: 0, latencyP50Ms: 7, latencyP95Ms: 7, promptTokens: 0, completionTokens: 0 });
  });

  it("forgets minutes older than an hour, even when their slot is not reused", () => {
    const log = new ActivityLog();
    log.record(T0, turn(5));
    log.record(T0 + 59 * MINUTE, turn(5));
    assert.equal(sum(log.report(T0 + 59 * MINUTE)), 2);
    assert.equal(sum(log.report(T0 + 60 * MINUTE)), 1, "the first minute has gone out of the window");
    log.record(T0 + 60 * MINUTE, turn(5));
    const r = log.report(T0 + 60 * MINUTE);
    assert.equal(r.buckets.at(-1)?.turns, 1, "a reused slot starts from zero");
    assert.equal(sum(log.report(T0 + 200 * MINUTE)), 0);
  });

  it("keeps percentiles close with more turns in a minute than it keeps durations of", () => {
    // Seeded, so the sample is the same every run; two seeds, so the check is not tuned to one.
    for (const seed of [1, 7]) {
      let x = seed;
      const random = () => (x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
      const log = new ActivityLog(random);
      for (let i = 0; i < 5000; i++) log.record(T0 + 1000, turn(i % 1000));
      const b = log.report(T0 + 2000).buckets.at(-1);
      assert.equal(b?.turns, 5000);
      assert.ok(Math.abs((b?.latencyP50Ms ?? 0) - 500) < 150, `p50 ${b?.latencyP50Ms}`);
      assert.ok(Math.abs((b?.latencyP95Ms ?? 0) - 950) < 80, `p95 ${b?.latencyP95Ms}`);
    }
  });

  it("gives turns a minute over the last 60 seconds and over the hour", () => {
    const log = new ActivityLog();
    for (let i = 0; i < 30; i++) log.record(T0 + i * 1000, turn(1));
    for (let i = 0; i < 10; i++) log.record(T0 + MINUTE + i * 1000, turn(1));
    // Half-way through the next minute: its 10 turns and half of the 30 before.
    assert.deepEqual(log.rates(T0 + MINUTE + 30_000), { lastMinute: 25, lastHour: 0.67 });
  });
});

describe("gateway: GET /admin/activity", () => {
  let dir: string;
  let upstream: FakeUpstream;
  let manager: SessionManager;
  let gateway: Gateway;
  const get = (path: string, token?: string) => fetch(`${gateway.url}${path}`, token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } });
  const chat = (key: string, content: string) =>
    fetch(`${gateway.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json", "x-openclaw-session-key": key },
      body: JSON.stringify({ model: "fake-model", messages: [{ role: "user", content }] }),
    });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "oc-activity-"));
    upstream = await startFakeUpstream();
    const tokens = [
      { name: "reader", token: READER, scopes: ["admin:read"] },
      { name: "chatter", token: CHATTER, scopes: ["chat"] },
    ];
    manager = await SessionManager.open({ stateDir: dir, config: { gateway: { model: { baseUrl: upstream.baseUrl, model: "fake-model", maxRetries: 0 }, auth: { tokens } } }, warn: () => undefined });
    gateway = await startGateway({ manager, host: "127.0.0.1", port: 0, token: TOKEN, log: quiet() });
  });
  after(async () => {
    await gateway?.close();
    await manager?.close();
    await upstream?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("needs the admin:read scope", async () => {
    assert.equal((await get("/admin/activity")).status, 401);
    assert.equal((await get("/admin/activity", CHATTER)).status, 403);
    assert.equal((await get("/admin/activity", READER)).status, 200);
  });

  it("shows the turns just run in the current minute: count, errors, latency percentiles and tokens", async () => {
    let prompt = 0;
    let completion = 0;
    for (const text of ["one", "two words", "three more words"]) {
      const r = await chat("dm:web:live", text);
      assert.equal(r.status, 200);
      const body = (await r.json()) as { usage: { prompt_tokens: number; completion_tokens: number } };
      prompt += body.usage.prompt_tokens;
      completion += body.usage.completion_tokens;
    }
    upstream.failWith = 500;
    try {
      assert.equal((await chat("dm:web:live", "fails")).status, 502);
    } finally {
      upstream.failWith = undefined;
    }
    const r = await get("/admin/activity", READER);
    const report = (await r.json()) as ActivityReport;
    assert.deepEqual(Object.keys(report).sort(), ["bucketSeconds", "buckets", "now"]);
    assert.equal(report.bucketSeconds, 60);
    assert.equal(report.buckets.length, 60);
    assert.ok(Date.parse(report.now) - Date.parse(report.buckets.at(-1)?.start ?? "") < MINUTE);
    // The turns may straddle a minute boundary: the figures are summed over the hour.
    const total = (k: "turns" | "errors" | "promptTokens" | "completionTokens") => report.buckets.reduce((n, b) => n + b[k], 0);
    assert.deepEqual([total("turns"), total("errors"), total("promptTokens"), total("completionTokens")], [4, 1, prompt, completion]);
    for (const b of report.buckets.filter((x) => x.turns > 0)) {
      assert.deepEqual(Object.keys(b).sort(), ["completionTokens", "errors", "latencyP50Ms", "latencyP95Ms", "promptTokens", "start", "turns"]);
      assert.ok(typeof b.latencyP50Ms === "number" && b.latencyP50Ms > 0);
      assert.ok(typeof b.latencyP95Ms === "number" && b.latencyP95Ms >= b.latencyP50Ms);
    }
  });

  it("/admin/runtime gives this process's pid, memory, cached sessions, uptime and turn rates", async () => {
    const r = await get("/admin/runtime", READER);
    assert.equal(r.status, 200);
    const body = (await r.json()) as { pid: number; memory: { rss: number }; sessionsCached: number; uptimeSeconds: number; turnsPerMinute: { lastMinute: number; lastHour: number } };
    assert.equal(body.pid, process.pid);
    assert.ok(body.memory.rss > 0);
    assert.equal(body.sessionsCached, 1);
    assert.ok(body.uptimeSeconds >= 0);
    assert.ok(body.turnsPerMinute.lastMinute > 0 && body.turnsPerMinute.lastHour > 0, JSON.stringify(body.turnsPerMinute));
    assert.equal((await get("/admin/runtime", CHATTER)).status, 403);
  });
});

function sum(r: ActivityReport): number {
  return r.buckets.reduce((n, b) => n + b.turns, 0);
}
