import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { inspect } from "node:util";
import { describe, it } from "node:test";
import { isOpenclawError, type OpenclawError } from "../../src/errors.js";
import { createModelClient, type ModelDeps, type ModelSettings } from "../../src/model/client.js";
import { Agent } from "undici";
import { completion, startFakeOpenAI, streamed, useFakeOpenAI } from "../helpers/context-fake-openai.js";
import { startFakeUpstream } from "../helpers/fake-upstream.js";
import { within } from "../helpers/within.js";

const KEY = "sk-test-0123456789abcdef";
const env = { OPENCLAW_TEST_KEY: KEY };
const ask = { messages: [{ role: "user" as const, content: "hello" }] };

describe("model client", () => {
  const fake = useFakeOpenAI();
  const settings = (over: Partial<ModelSettings> = {}): ModelSettings => ({
    baseUrl: fake.baseUrl,
    model: "fake-model",
    apiKeyEnv: "OPENCLAW_TEST_KEY",
    timeoutMs: 2_000,
    maxRetries: 0,
    ...over,
  });
  const client = (over: Partial<ModelSettings> = {}, deps: ModelDeps = { env }) => createModelClient(settings(over), deps);
  /** The error `work` rejects with, which must be an OpenclawError. */
  const failure = async (work: Promise<unknown>): Promise<OpenclawError> => {
    try {
      await work;
    } catch (err) {
      assert.ok(isOpenclawError(err), String(err));
      assert.ok(!err.message.includes("\n"), "one line");
      return err;
    }
    assert.fail("expected a failure");
  };

  it("completes: posts model and messages to {baseUrl}/chat/completions with the key", async () => {
    fake.script({ status: 200, body: completion("hi there") });
    const c = await client();
    assert.equal(c.model, "fake-model");
    const r = await c.complete({ ...ask, temperature: 0 });
    assert.equal(r.choices[0]?.message.content, "hi there");
    const req = fake.requests[0];
    assert.equal(req?.method, "POST");
    assert.equal(req?.url, "/v1/chat/completions");
    assert.equal(req?.headers.authorization, `Bearer ${KEY}`);
    const body = JSON.parse(req?.body ?? "{}") as Record<string, unknown>;
    assert.deepEqual(body, { messages: ask.messages, temperature: 0, model: "fake-model", stream: false });
  });

  it("sends no Authorization header without a key, and nothing from OPENAI_* variables", async () => {
    const saved = { ...process.env };
    Object.assign(process.env, { OPENAI_API_KEY: "sk-env-api", OPENAI_ADMIN_KEY: "sk-env-admin", OPENAI_ORG_ID: "org-env", OPENAI_PROJECT_ID: "proj-env" });
    try {
      fake.script({ status: 200, body: completion("ok") });
      await (await client({ apiKeyEnv: undefined }, {})).complete(ask);
      await (await client({}, { env })).complete(ask);
    } finally {
      for (const k of ["OPENAI_API_KEY", "OPENAI_ADMIN_KEY", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID"]) {
        if (saved[k] === undefined) delete process.env[k];
        else process.env[k] = saved[k];
      }
    }
    const [keyless, keyed] = fake.requests;
    assert.equal(keyless?.headers.authorization, undefined);
    assert.equal(keyed?.headers.authorization, `Bearer ${KEY}`);
    for (const r of fake.requests) {
      assert.equal(r.headers["openai-organization"], undefined);
      assert.equal(r.headers["openai-project"], undefined);
    }
  });

  it("accepts a base URL with a trailing slash, a pasted /chat/completions or a query string", async () => {
    fake.script({ status: 200, body: completion("ok") });
    for (const baseUrl of [`${fake.baseUrl}/`, `${fake.baseUrl}/chat/completions`, `${fake.baseUrl}?api-version=2024-06-01`]) {
      await (await client({ baseUrl })).complete(ask);
    }
    assert.deepEqual(
      fake.requests.map((r) => r.url),
      ["/v1/chat/completions", "/v1/chat/completions", "/v1/chat/completions?api-version=2024-06-01"],
    );
  });

  it("streams, asking for usage, and yields it in the last chunk", async () => {
    fake.script(streamed("one two three", { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 }));
    const chunks = [];
    for await (const chunk of await (await client()).stream(ask)) chunks.push(chunk);
    assert.equal(chunks.map((c) => c.choices[0]?.delta.content ?? "").join(""), "one two three");
    assert.deepEqual(chunks.at(-1)?.usage, { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 });
    const body = JSON.parse(fake.requests[0]?.body ?? "{}") as Record<string, unknown>;
    assert.equal(body.stream, true);
    assert.deepEqual(body.stream_options, { include_usage: true });
  });

  for (const [status, body, detail] of [
    [401, { error: { message: "Incorrect API key provided", type: "invalid_request_error" } }, "Incorrect API key provided"],
    [404, { error: 'model "fake-model" not found, try pulling it first' }, 'model "fake-model" not found, try pulling it first'],
    [404, { object: "error", message: "The model `fake-model` does not exist.", type: "NotFoundError", code: 404 }, "The model `fake-model` does not exist."],
    [422, { detail: "Unprocessable" }, '{"detail":"Unprocessable"}'],
    [429, { error: { message: "Rate limit reached" } }, "Rate limit reached"],
    [500, "upstream exploded", "upstream exploded"],
    [503, "", undefined],
  ] as const) {
    it(`maps HTTP ${status} ${JSON.stringify(body).slice(0, 30)} to UPSTREAM with the status`, async () => {
      fake.script({ status, body: typeof body === "string" ? body : JSON.stringify(body) });
      for (const call of [(c: Awaited<ReturnType<typeof client>>) => c.complete(ask), async (c: Awaited<ReturnType<typeof client>>) => c.stream(ask)]) {
        const e = await failure(call(await client()));
        assert.equal(e.code, "UPSTREAM");
        assert.equal(e.status, status);
        assert.equal(e.message, `model fake-model at ${fake.baseUrl}: HTTP ${status}${detail === undefined ? "" : `: ${detail}`}`);
      }
    });
  }

  it("does not retry a 4xx other than 429", async () => {
    for (const status of [400, 401, 403, 404, 422]) {
      fake.requests.length = 0;
      fake.script({ status, body: "{}" });
      await failure((await client({ maxRetries: 3 })).complete(ask));
      assert.equal(fake.requests.length, 1, `HTTP ${status}`);
    }
  });

  it("retries a 5xx after a backoff, then succeeds", async () => {
    fake.script({ status: 502, body: "" }, { status: 500, body: "", headers: { "retry-after": "0" } }, { status: 200, body: completion("third time") });
    const r = await (await client({ maxRetries: 2 })).complete(ask);
    assert.equal(r.choices[0]?.message.content, "third time");
    const [a, b, c] = fake.requests.map((q) => q.at);
    assert.equal(fake.requests.length, 3);
    assert.ok((b ?? 0) - (a ?? 0) >= 300, "default backoff (0.5 s less up to 25 % jitter)");
    assert.ok((c ?? 0) - (b ?? 0) < 300, "Retry-After: 0 is honoured");
  });

  it("gives up after maxRetries retries and says the status", async () => {
    fake.script({ status: 429, body: "slow down", headers: { "retry-after": "0" } });
    const e = await failure((await client({ maxRetries: 2 })).complete(ask));
    assert.equal(fake.requests.length, 3);
    assert.equal(e.status, 429);
    assert.match(e.message, /: HTTP 429: slow down after 3 attempts$/);
  });

  it("times out a server that never answers", async () => {
    fake.script("hang");
    const started = Date.now();
    const e = await failure((await client({ timeoutMs: 150 })).complete(ask));
    assert.equal(e.code, "UPSTREAM");
    assert.equal(e.status, undefined);
    assert.equal(e.message, `model fake-model at ${fake.baseUrl}: timeout of 150 ms`);
    assert.ok(Date.now() - started < 1_000);
  });

  it("times out, and retries, a server that stalls in the middle of the body: timeoutMs bounds the whole response", async () => {
    fake.script("stall");
    const started = Date.now();
    const e = await failure((await client({ timeoutMs: 150, maxRetries: 1 })).complete(ask));
    assert.equal(fake.requests.length, 2);
    assert.match(e.message, /: timeout of 150 ms after 2 attempts$/);
    assert.ok(Date.now() - started < 1_500, "two attempts of 150 ms and one backoff");
  });

  it("reports a refused connection", async () => {
    const dead = await startFakeOpenAI();
    await dead.close();
    const e = await failure((await client({ baseUrl: dead.baseUrl })).complete(ask));
    assert.equal(e.message, `model fake-model at ${dead.baseUrl}: cannot reach the model server (ECONNREFUSED)`);
  });

  it("an abort ends a call in flight with ABORTED, for complete and stream", async () => {
    fake.script("hang");
    const c = await client();
    for (const call of [(s: AbortSignal) => c.complete(ask, s), (s: AbortSignal) => c.stream(ask, s)]) {
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 30);
      const e = await failure(call(controller.signal));
      assert.equal(e.code, "ABORTED");
    }
    const e = await failure(c.complete(ask, AbortSignal.abort()));
    assert.equal(e.code, "ABORTED", "an already aborted signal");
  });

  it("an abort during the backoff between attempts ends the call at once", async () => {
    fake.script({ status: 500, body: "" });
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(), 100);
    const e = await failure((await client({ maxRetries: 5 })).complete(ask, controller.signal));
    assert.equal(e.code, "ABORTED");
    assert.ok(Date.now() - started < 350, "the ~0.5 s backoff is not waited out");
    assert.equal(fake.requests.length, 1);
  });

  it("never puts the API key in an error, even when the server echoes it", async () => {
    fake.script({ status: 401, body: JSON.stringify({ error: { message: `Incorrect API key provided: ${KEY}` } }) });
    const e = await failure((await client()).complete(ask));
    assert.match(e.message, /Incorrect API key provided: \[redacted\]$/);
    assert.ok(!inspect(e, { depth: 10 }).includes(KEY), "not in the message, the stack or the cause");
  });

  it("never echoes credentials from the base URL", async () => {
    const port = new URL(fake.baseUrl).port;
    fake.script({ status: 500, body: "" });
    const withQuery = await failure((await client({ baseUrl: `http://127.0.0.1:${port}/v1?api-key=query-secret-42` })).complete(ask));
    assert.equal(withQuery.message, `model fake-model at http://127.0.0.1:${port}/v1: HTTP 500`);
    // User info is never sent (it would go in clear to any server the URL names): the call is refused, saying why.
    const before = fake.requests.length;
    const withUser = await failure((await client({ baseUrl: `http://alice:pass-secret-42@127.0.0.1:${port}/v1` })).complete(ask));
    assert.equal(withUser.code, "UPSTREAM");
    assert.match(withUser.message, /user name or password/);
    assert.equal(fake.requests.length, before);
    for (const e of [withQuery, withUser]) {
      const all = inspect(e, { depth: 10 });
      assert.ok(!all.includes("query-secret-42") && !all.includes("pass-secret-42"), all);
    }
  });

  it("sends every attempt through the dispatcher given in deps", async () => {
    fake.script({ status: 503, body: "", headers: { "retry-after": "0" } }, { status: 200, body: completion("ok") });
    const paths: string[] = [];
    const agent = new Agent();
    const dispatcher = agent.compose((dispatch) => (opts, handler) => {
      paths.push(opts.path);
      return dispatch(opts, handler);
    });
    try {
      await (await client({ maxRetries: 1 }, { env, dispatcher })).complete(ask);
    } finally {
      await agent.close();
    }
    assert.deepEqual(paths, ["/v1/chat/completions", "/v1/chat/completions"]);
  });

  it("keeps connections alive: many calls, one after another, open one connection", async () => {
    fake.script({ status: 200, body: completion("ok") }, { status: 200, body: completion("ok") }, { status: 200, body: completion("ok") }, streamed("a b c"));
    const c = await client();
    const before = fake.connections;
    for (let i = 0; i < 3; i++) await c.complete(ask);
    for (let i = 0; i < 3; i++) for await (const _ of await c.stream(ask)) void _;
    assert.equal(fake.requests.length, 6);
    assert.ok(fake.connections - before <= 1, `${fake.connections - before} connections for 6 calls`);
  });

  it("cuts off a stream that goes silent after its first chunk, after streamIdleTimeoutMs", async () => {
    fake.script("stall-stream");
    const c = await client({ streamIdleTimeoutMs: 200, timeoutMs: 5_000 });
    const started = Date.now();
    const seen: string[] = [];
    const e = await failure(
      within(
        3_000,
        (async () => {
          for await (const chunk of await c.stream(ask)) seen.push(chunk.choices[0]?.delta.content ?? "");
        })(),
      ),
    );
    const took = Date.now() - started;
    assert.deepEqual(seen, ["first"]);
    assert.equal(e.code, "UPSTREAM");
    assert.equal(e.message, `model fake-model at ${fake.baseUrl}: no data from the model for 200 ms (streamIdleTimeoutMs): the stream was cut off`);
    assert.ok(took >= 180 && took < 1_500, `cut off after ${took} ms`);
  });

  it("the idle timeout restarts with every chunk: a slow, steady stream is not cut off", async () => {
    const slow = await startFakeUpstream();
    slow.chunkDelayMs = 60;
    try {
      const c = await client({ baseUrl: slow.baseUrl, streamIdleTimeoutMs: 200 });
      const started = Date.now();
      let text = "";
      for await (const chunk of await c.stream({ messages: [{ role: "user", content: "one two three four five six seven" }] })) text += chunk.choices[0]?.delta.content ?? "";
      assert.equal(text, "echo: one two three four five six seven");
      assert.ok(Date.now() - started > 400, "the whole stream took longer than the idle timeout");
    } finally {
      await slow.close();
    }
  });

  it("an abort in the middle of a stream ends its iteration with ABORTED", async () => {
    fake.script("stall-stream");
    const controller = new AbortController();
    const stream = await (await client({ streamIdleTimeoutMs: 5_000 })).stream(ask, controller.signal);
    const iterator = stream[Symbol.asyncIterator]();
    assert.equal((await iterator.next()).value?.choices[0]?.delta.content, "first");
    const started = Date.now();
    setTimeout(() => controller.abort(), 20);
    const e = await failure(iterator.next());
    assert.equal(e.code, "ABORTED");
    assert.ok(Date.now() - started < 1_000);
  });

  it("an error event inside a stream is an UPSTREAM error, the key redacted", async () => {
    const first = { id: "s", object: "chat.completion.chunk", created: 1, model: "m", choices: [{ index: 0, delta: { content: "hi" }, finish_reason: null }] };
    fake.script({ status: 200, headers: { "content-type": "text/event-stream" }, body: `data: ${JSON.stringify(first)}\n\ndata: ${JSON.stringify({ error: { message: `quota exceeded for ${KEY}` } })}\n\n` });
    const seen: string[] = [];
    const e = await failure(
      (async () => {
        for await (const chunk of await (await client()).stream(ask)) seen.push(chunk.choices[0]?.delta.content ?? "");
      })(),
    );
    assert.deepEqual(seen, ["hi"]);
    assert.equal(e.message, `model fake-model at ${fake.baseUrl}: the stream ended with an error: quota exceeded for [redacted]`);
    assert.ok(!inspect(e, { depth: 10 }).includes(KEY));
  });
});

describe("lazy HTTP client", () => {
  it("`sessions list` and importing the summarizer load neither undici nor the openai SDK; a summarizer call loads undici only", () => {
    const probe = fileURLToPath(new URL("../helpers/model-lazy-probe.ts", import.meta.url));
    const run = spawnSync(process.execPath, ["--import", "tsx", probe], { encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
    assert.equal(run.status, 0, run.stderr);
    type Counts = { undici: number; openai: number };
    const seen = JSON.parse(run.stdout.trim().split("\n").pop() ?? "{}") as { list: Counts; imported: Counts; called: Counts; fellBack: boolean };
    assert.deepEqual(seen.list, { undici: 0, openai: 0 });
    assert.deepEqual(seen.imported, { undici: 0, openai: 0 });
    assert.ok(seen.called.undici > 0);
    assert.equal(seen.called.openai, 0, "the openai package is used for its types only");
    assert.equal(seen.fellBack, true);
  });
});
