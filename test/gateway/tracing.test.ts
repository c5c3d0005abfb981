import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { startGateway, type Gateway, type GatewayLog } from "../../src/gateway/server.js";
import { SessionManager } from "../../src/manager/manager.js";
import { startFakeUpstream, type FakeUpstream } from "../helpers/fake-upstream.js";
import { MemoryTracerProvider, type RecordedSpan } from "../helpers/memory-tracer.js";

const TOKEN = "a-token-of-some-length-0123456789";
const quiet = (): GatewayLog => ({ debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, child: () => quiet() });

describe("gateway: OpenTelemetry spans of a turn, its model call and a fold", () => {
  const provider = new MemoryTracerProvider();
  let dir: string;
  let upstream: FakeUpstream;
  let manager: SessionManager;
  let gateway: Gateway;
  const chat = (key: string, content: string) =>
    fetch(`${gateway.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json", "x-openclaw-session-key": key },
      body: JSON.stringify({ model: "fake-model", messages: [{ role: "user", content }] }),
    });
  const spansNamed = (name: string) => provider.spans.filter((s) => s.name === name);

  before(async () => {
    // As an application would, before the library starts: the gateway asks the global API for its tracer.
    assert.ok(trace.setGlobalTracerProvider(provider), "the test's provider is the global one");
    dir = await mkdtemp(join(tmpdir(), "oc-tracing-"));
    upstream = await startFakeUpstream();
    manager = await SessionManager.open({
      stateDir: dir,
      // Three messages at most: the third turn folds the first.
      config: { sessions: { maxHistoryLength: 3 }, gateway: { model: { baseUrl: upstream.baseUrl, model: "fake-model", maxRetries: 0 } } },
      warn: () => undefined,
    });
    gateway = await startGateway({ manager, host: "127.0.0.1", port: 0, token: TOKEN, log: quiet() });
  });
  after(async () => {
    await gateway?.close();
    await manager?.close();
    await upstream?.close();
    await rm(dir, { recursive: true, force: true });
    trace.disable();
  });

  it("one turn is a span with the session id and usage, and the model call a child span with the GenAI attributes", async () => {
    const r = await chat("dm:web:traced", "hello there");
    assert.equal(r.status, 200);
    const body = (await r.json()) as { usage: { prompt_tokens: number; completion_tokens: number } };
    const sessionId = r.headers.get("x-openclaw-session-id");
    assert.ok(sessionId !== null);

    const [turn] = spansNamed("openclaw.turn");
    const [call] = spansNamed("chat fake-model");
    assert.ok(turn !== undefined && call !== undefined, `spans: ${provider.spans.map((s) => s.name).join(", ")}`);
    assert.equal(turn.scope, "openclaw-sessions");
    assert.equal(turn.kind, SpanKind.SERVER);
    assert.equal(turn.parentSpanId, undefined);
    assert.deepEqual(pick(turn, ["openclaw.session.id", "openclaw.route", "openclaw.turn.outcome", "gen_ai.operation.name", "gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens"]), {
      "openclaw.session.id": sessionId,
      "openclaw.route": "/v1/chat/completions",
      "openclaw.turn.outcome": "ok",
      "gen_ai.operation.name": "chat",
      "gen_ai.usage.input_tokens": body.usage.prompt_tokens,
      "gen_ai.usage.output_tokens": body.usage.completion_tokens,
    });

    assert.equal(call.kind, SpanKind.CLIENT);
    assert.equal(call.parentSpanId, turn.spanId, "the model call is inside the turn");
    assert.equal(call.traceId, turn.traceId);
    assert.deepEqual(
      pick(call, ["gen_ai.operation.name", "gen_ai.request.model", "gen_ai.response.model", "gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens", "gen_ai.system", "gen_ai.provider.name", "openclaw.session.id"]),
      {
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": "fake-model",
        "gen_ai.response.model": "fake-model",
        "gen_ai.usage.input_tokens": body.usage.prompt_tokens,
        "gen_ai.usage.output_tokens": body.usage.completion_tokens,
        "gen_ai.system": "openai",
        "gen_ai.provider.name": "openai",
        "openclaw.session.id": sessionId,
      },
    );
    assert.ok(call.startTime >= turn.startTime && (call.endTime ?? Infinity) <= (turn.endTime ?? 0), "the call's span lies within the turn's");
    assert.equal(call.status.code, SpanStatusCode.UNSET);
  });

  it("a failed model call ends both spans as errors, with the error's code", async () => {
    upstream.failWith = 500;
    try {
      const r = await chat("dm:web:traced-fail", "this one fails");
      assert.equal(r.status, 502);
      await r.body?.cancel();
    } finally {
      upstream.failWith = undefined;
    }
    const turn = spansNamed("openclaw.turn").find((s) => s.attributes["openclaw.turn.outcome"] === "error");
    assert.ok(turn !== undefined);
    assert.equal(turn.status.code, SpanStatusCode.ERROR);
    const call = spansNamed("chat fake-model").find((s) => s.parentSpanId === turn.spanId);
    assert.ok(call !== undefined);
    assert.equal(call.status.code, SpanStatusCode.ERROR);
    assert.equal(call.attributes["error.type"], "UPSTREAM");
    assert.equal(call.exceptions.length, 1);
  });

  it("a fold is a span with the session id and how many messages it folded", async () => {
    for (const text of ["first question", "second question", "third question"]) assert.equal((await chat("dm:web:folding", text)).status, 200);
    const session = await manager.get("dm:web:folding");
    assert.ok(session.summary !== null, "the history was folded");
    const folds = spansNamed("openclaw.fold").filter((s) => s.attributes["openclaw.session.id"] === session.id);
    assert.ok(folds.length >= 1, `spans: ${provider.spans.map((s) => s.name).join(", ")}`);
    const fold = folds[0] as RecordedSpan;
    assert.equal(fold.attributes["openclaw.fold.outcome"], "ok");
    assert.ok(Number(fold.attributes["openclaw.fold.messages"]) >= 1);
    assert.ok((fold.endTime ?? 0) >= fold.startTime);
  });
});

function pick(span: RecordedSpan, keys: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(keys.map((k) => [k, span.attributes[k]]));
}
