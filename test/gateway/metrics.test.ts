import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import OpenAI from "openai";
import { startGateway, type GatewayLog } from "../../src/gateway/server.js";
import { SessionManager } from "../../src/manager/manager.js";
import { startFakeUpstream, type FakeUpstream } from "../helpers/fake-upstream.js";
import { startGatewayProcess, type GatewayProcess } from "../helpers/gateway-process.js";
import { has, parseExposition, valueOf, type Sample } from "../helpers/prometheus.js";
import { testStoreUri } from "../helpers/test-store.js";
import { until } from "../helpers/until.js";

const READER = "reader-token-0123456789abcd";
const CHATTER = "chatter-token-0123456789abc";
type ErrorBody = { error: { message: string; code: string } };

describe("gateway: GET /metrics", () => {
  let upstream: FakeUpstream;
  let gw: GatewayProcess;
  let client: OpenAI;
  const scrape = async (): Promise<Sample[]> => {
    const r = await fetch(`${gw.url}/metrics`, { headers: { authorization: `Bearer ${READER}` } });
    assert.equal(r.status, 200);
    return parseExposition(await r.text());
  };
  const key = (k: string) => ({ headers: { "x-openclaw-session-key": k } });

  before(async () => {
    upstream = await startFakeUpstream();
    const storeUri = testStoreUri();
    gw = await startGatewayProcess({
      ...(storeUri !== undefined ? { storage: { uri: storeUri } } : {}),
      // Three messages of history: turns fold. Two cached documents for three sessions: reads miss the cache.
      sessions: { maxHistoryLength: 3, cacheSize: 2 },
      gateway: {
        model: { baseUrl: upstream.baseUrl, model: "fake-model", maxRetries: 0 },
        auth: {
          tokens: [
            { name: "reader", token: READER, scopes: ["admin:read"] },
            { name: "chatter", token: CHATTER, scopes: ["chat", "route"] },
          ],
        },
      },
    });
    client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: CHATTER, maxRetries: 0 });
  });
  after(async () => {
    await gw?.stop();
    await upstream?.close();
  });

  it("needs a credential with the admin:read scope: 401 without one, 403 with a chat token", async () => {
    const none = await fetch(`${gw.url}/metrics`);
    assert.equal(none.status, 401);
    assert.match(((await none.json()) as ErrorBody).error.message, /bearer token/);
    const chat = await fetch(`${gw.url}/metrics`, { headers: { authorization: `Bearer ${CHATTER}` } });
    assert.equal(chat.status, 403);
    assert.match(((await chat.json()) as ErrorBody).error.message, /GET \/metrics needs the admin:read scope; credential "chatter"/);
    const ok = await fetch(`${gw.url}/metrics`, { headers: { authorization: `Bearer ${READER}` } });
    assert.equal(ok.status, 200);
    assert.match(ok.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
    assert.match(await ok.text(), /^# HELP openclaw_/m);
  });

  it("turns move the turn, append, token, latency, store and fold figures", async () => {
    const before = await scrape();
    let prompt = 0;
    let completion = 0;
    for (const [k, text] of [
      ["dm:web:m-a", "one two"],
      ["dm:web:m-b", "three four five"],
      ["dm:web:m-c", "six"],
      ["dm:web:m-a", "seven eight"],
    ] as const) {
      const r = await client.chat.completions.create({ model: "fake-model", messages: [{ role: "user", content: text }] }, key(k));
      prompt += r.usage?.prompt_tokens ?? NaN;
      completion += r.usage?.completion_tokens ?? NaN;
    }
    const stream = await client.chat.completions.create({ model: "fake-model", messages: [{ role: "user", content: "streamed nine" }], stream: true, stream_options: { include_usage: true } }, key("dm:web:m-b"));
    for await (const chunk of stream) {
      prompt += chunk.usage?.prompt_tokens ?? 0;
      completion += chunk.usage?.completion_tokens ?? 0;
    }
    // Folds run after the acknowledgement (compaction mode "background"): wait until one has committed.
    const after = await until("a fold to commit", async () => {
      const now = await scrape();
      const grew = (name: string, labels: Record<string, string>) => valueOf(now, name, labels) > valueOf(before, name, labels);
      return grew("openclaw_folds_total", { outcome: "ok" }) && grew("openclaw_store_operation_duration_seconds_count", { op: "commit" }) ? now : undefined;
    });
    const delta = (name: string, labels: Record<string, string> = {}) => valueOf(after, name, labels) - valueOf(before, name, labels);

    assert.equal(delta("openclaw_turns_total", { route: "/v1/chat/completions", outcome: "ok" }), 5);
    assert.equal(delta("openclaw_appends_total"), 10, "a question and an answer per turn");
    assert.equal(delta("openclaw_upstream_prompt_tokens_total", { model: "fake-model" }), prompt);
    assert.equal(delta("openclaw_upstream_completion_tokens_total", { model: "fake-model" }), completion);
    assert.equal(delta("openclaw_upstream_duration_seconds_count", { model: "fake-model" }), 5);
    assert.equal(delta("openclaw_http_request_duration_seconds_count", { route: "/v1/chat/completions" }), 5);
    // A histogram's buckets are cumulative and end with +Inf, which holds every observation.
    const buckets = after.filter((s) => s.name === "openclaw_upstream_duration_seconds_bucket" && s.labels.model === "fake-model");
    assert.ok(buckets.length >= 5, "several buckets");
    assert.deepEqual(
      buckets.map((b) => b.value),
      [...buckets.map((b) => b.value)].sort((a, b) => a - b),
      "cumulative",
    );
    assert.equal(buckets.at(-1)?.labels.le, "+Inf");
    assert.equal(buckets.at(-1)?.value, valueOf(after, "openclaw_upstream_duration_seconds_count", { model: "fake-model" }));
    for (const op of ["append", "commit", "get"]) assert.ok(delta("openclaw_store_operation_duration_seconds_count", { op }) >= 1, `store op ${op} timed`);
    assert.ok(delta("openclaw_folds_total", { outcome: "ok" }) >= 1, "the short history folded");
    assert.ok(delta("openclaw_fold_duration_seconds_count") >= 1);
    assert.equal(valueOf(after, "openclaw_live_sessions"), 3);
    assert.equal(valueOf(after, "openclaw_session_cache_size"), 2);
  });

  it("a failed turn counts as an error turn and an HTTP error by route and status code", async () => {
    const before = await scrape();
    upstream.failWith = 500;
    try {
      await assert.rejects(client.chat.completions.create({ model: "fake-model", messages: [{ role: "user", content: "fails" }] }, key("dm:web:m-fail")), OpenAI.APIError);
    } finally {
      upstream.failWith = undefined;
    }
    assert.equal((await fetch(`${gw.url}/no-such-route`, { headers: { authorization: `Bearer ${READER}` } })).status, 404);
    const after = await scrape();
    const delta = (name: string, labels: Record<string, string>) => valueOf(after, name, labels) - valueOf(before, name, labels);
    assert.equal(delta("openclaw_turns_total", { route: "/v1/chat/completions", outcome: "error" }), 1);
    assert.equal(delta("openclaw_http_errors_total", { route: "/v1/chat/completions", code: "502" }), 1);
    assert.equal(delta("openclaw_http_errors_total", { route: "unmatched", code: "404" }), 1, "unknown paths share one label");
    assert.equal(delta("openclaw_upstream_duration_seconds_count", { model: "fake-model" }), 1, "a failed call is timed too");
  });

  it("includes the process figures: event-loop lag, resident memory, heap", async () => {
    const samples = await scrape();
    for (const name of ["openclaw_nodejs_eventloop_lag_seconds", "openclaw_process_resident_memory_bytes", "openclaw_nodejs_heap_size_used_bytes"]) assert.ok(has(samples, name), name);
    assert.ok(valueOf(samples, "openclaw_process_resident_memory_bytes") > 1_000_000);
  });
});

describe("gateway: /metrics when gateway.metrics.public", () => {
  const quiet = (): GatewayLog => ({ debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, child: () => quiet() });
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "oc-metrics-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("answers without a token, from a registry of its own (prom-client's global one stays empty)", async () => {
    const manager = await SessionManager.open({ stateDir: dir, config: { gateway: { metrics: { public: true } } }, warn: () => undefined });
    const gateway = await startGateway({ manager, host: "127.0.0.1", port: 0, token: "a-token-of-some-length-0123456789", log: quiet() });
    try {
      const r = await fetch(`${gateway.url}/metrics`);
      assert.equal(r.status, 200);
      assert.ok(has(parseExposition(await r.text()), "openclaw_live_sessions"));
      // Admin routes still need the token.
      assert.equal((await fetch(`${gateway.url}/admin/activity`)).status, 401);
      const { register } = await import("prom-client");
      assert.deepEqual(
        (await register.getMetricsAsJSON()).filter((m) => m.name.startsWith("openclaw_")),
        [],
      );
    } finally {
      await gateway.close();
      await manager.close();
    }
  });

  it("gateway.metrics.public takes true or false only", async () => {
    await assert.rejects(SessionManager.open({ stateDir: dir, config: { gateway: { metrics: { public: "yes" } } }, warn: () => undefined }), /gateway\.metrics\.public: expected true or false/);
  });
});
