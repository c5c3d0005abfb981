import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Agent } from "undici";
import { createOpenAICompatibleSummarizer, type OpenAICompatibleConfig } from "../../src/context/openai.js";
import { createSummarizer, summarizeWithFallback, type SummarizeInput, type Summarizer } from "../../src/context/summarizer.js";
import { isOpenclawError } from "../../src/errors.js";
import { completion, startFakeOpenAI, useFakeOpenAI } from "../helpers/context-fake-openai.js";
import { msg } from "../helpers/context-fixtures.js";

const KEY = "sk-test-0123456789abcdef";
const env = { OPENCLAW_TEST_KEY: KEY };

const input: SummarizeInput = {
  previous: null,
  messages: [msg(0, { role: "user", content: "Refund INV-2024-0042 ($1,200) please." }), msg(1, { role: "assistant", content: "We decided to refund it today." })],
  maxTokens: 400,
};

const failing: Summarizer = {
  name: "extractive",
  summarize: () => Promise.reject(new Error("disk on fire")),
};

describe("openai-compatible summarizer", () => {
  const fake = useFakeOpenAI();
  const config = (over: Partial<OpenAICompatibleConfig> = {}): OpenAICompatibleConfig => ({
    type: "openai-compatible",
    baseUrl: fake.baseUrl,
    model: "llama3.1:8b",
    apiKeyEnv: "OPENCLAW_TEST_KEY",
    timeoutMs: 2_000,
    maxRetries: 2,
    maxTokens: 400,
    ...over,
  });
  const deps = { env };
  /** How the summarizer names the upstream in its errors. */
  const where = (): string => `model llama3.1:8b at ${fake.baseUrl}`;
  /** Retry-After: 0 makes the client retry at once instead of backing off ~0.5 s, 1 s … */
  const now = { "retry-after": "0" };

  it("posts the transcript to {baseUrl}/chat/completions and returns the reply", async () => {
    fake.script({ status: 200, body: completion("  The user asked to refund INV-2024-0042 ($1,200).  ") });
    const s = createSummarizer(config(), deps);
    const r = await s.summarizeWithFallback(input);
    assert.deepEqual(r, { text: "The user asked to refund INV-2024-0042 ($1,200).", summarizer: "openai-compatible" });
    assert.equal(fake.requests.length, 1);
    const req = fake.requests[0];
    assert.equal(req?.method, "POST");
    assert.equal(req?.url, "/v1/chat/completions");
    assert.equal(req?.headers.authorization, `Bearer ${KEY}`);
    const body = JSON.parse(req?.body ?? "{}") as { model: string; temperature: number; messages: Array<{ role: string; content: string }> };
    assert.equal(body.model, "llama3.1:8b");
    assert.equal(body.temperature, 0);
    assert.equal(body.messages[0]?.role, "system");
    assert.match(body.messages[0]?.content ?? "", /identifier.*exactly as written/i);
    assert.match(body.messages[1]?.content ?? "", /Previous summary:\n\(none\)[\s\S]*INV-2024-0042 \(\$1,200\)/);
  });

  it("sends no Authorization header when the key variable is unset", async () => {
    fake.script({ status: 200, body: completion("fine") });
    await createSummarizer(config(), { env: {} }).summarizeWithFallback(input);
    assert.equal(fake.requests[0]?.headers.authorization, undefined);
  });

  it("drops a reasoning model's <think> block", async () => {
    fake.script({ status: 200, body: completion("<think>let me see</think>\nRefund of INV-2024-0042 ($1,200) agreed.") });
    const r = await createSummarizer(config(), deps).summarizeWithFallback(input);
    assert.equal(r.text, "Refund of INV-2024-0042 ($1,200) agreed.");
  });

  it("retries HTTP 500, then falls back to the extractive summarizer and records why", async () => {
    fake.script({ status: 500, body: '{"error":"boom"}', headers: now });
    const r = await createSummarizer(config(), deps).summarizeWithFallback(input);
    assert.equal(fake.requests.length, 3, "1 attempt + maxRetries 2");
    assert.equal(r.fallbackError, `openai-compatible failed: ${where()}: HTTP 500: boom after 3 attempts`);
    assert.equal(r.summarizer, `extractive (fallback: openai-compatible failed: ${where()}: HTTP 500: boom after 3 attempts)`);
    assert.match(r.text, /^Summary of 2 earlier messages/);
    assert.ok(r.text.includes("INV-2024-0042"));
  });

  it("recovers when a retry after 429 succeeds", async () => {
    fake.script({ status: 429, body: "slow down", headers: { "retry-after": "0" } }, { status: 200, body: completion("second time lucky: INV-2024-0042, $1,200") });
    const r = await createSummarizer(config(), deps).summarizeWithFallback(input);
    assert.equal(r.text, "second time lucky: INV-2024-0042, $1,200");
    assert.equal(fake.requests.length, 2);
  });

  it("does not retry a 4xx other than 429", async () => {
    fake.script({ status: 404, body: '{"error":"model not found"}' });
    const r = await createSummarizer(config(), deps).summarizeWithFallback(input);
    assert.equal(fake.requests.length, 1);
    assert.equal(r.fallbackError, `openai-compatible failed: ${where()}: HTTP 404: model not found`);
  });

  it("times out a server that never answers, retries, then falls back", async () => {
    fake.script("hang");
    const started = Date.now();
    const r = await createSummarizer(config({ timeoutMs: 150, maxRetries: 1 }), deps).summarizeWithFallback(input);
    assert.equal(fake.requests.length, 2);
    assert.equal(r.fallbackError, `openai-compatible failed: ${where()}: timeout of 150 ms after 2 attempts`);
    assert.ok(Date.now() - started < 2_000);
  });

  for (const [what, body, type, reason] of [
    ["a body that is not JSON", "<html>oops</html>", "application/json", "response is not JSON"],
    ["an HTML page", "<html>oops</html>", "text/html", "response is not JSON"],
    ["no choices", JSON.stringify({ choices: [] }), "application/json", "response has no choices[0].message.content string"],
    ["null content", completion(null), "application/json", "response has no choices[0].message.content string"],
    ["empty content", completion("   "), "application/json", "response content is empty"],
    ["a reply that is all <think>", completion("<think>hmm</think>  "), "application/json", "response content is empty"],
  ] as const) {
    it(`treats ${what} as a failure and falls back`, async () => {
      fake.script({ status: 200, body, headers: { "content-type": type } });
      const r = await createSummarizer(config(), deps).summarizeWithFallback(input);
      assert.equal(fake.requests.length, 1, "a malformed success is not retried");
      assert.equal(r.summarizer, `extractive (fallback: openai-compatible failed: ${where()}: ${reason})`);
    });
  }

  it("never puts the API key in an error, even when the server echoes it", async () => {
    fake.script({ status: 401, body: JSON.stringify({ error: `invalid key ${KEY}` }) });
    const r = await createSummarizer(config(), deps).summarizeWithFallback(input);
    assert.ok(!(r.fallbackError ?? "").includes(KEY));
    assert.ok(!r.summarizer.includes(KEY));
    assert.match(r.fallbackError ?? "", /\[redacted\]/);
    await assert.rejects(createOpenAICompatibleSummarizer(config({ maxRetries: 0 }), deps).summarize(input), (e) => {
      assert.ok(isOpenclawError(e, "SUMMARIZER_FAILED"));
      assert.ok(!e.message.includes(KEY) && !String(e.stack).includes(KEY));
      return true;
    });
  });

  it("reports a refused connection as a network error", async () => {
    const dead = await startFakeOpenAI();
    const url = dead.baseUrl;
    await dead.close();
    const r = await createSummarizer(config({ baseUrl: url, maxRetries: 1 }), deps).summarizeWithFallback(input);
    assert.equal(r.fallbackError, `openai-compatible failed: model llama3.1:8b at ${url}: cannot reach the model server (ECONNREFUSED) after 2 attempts`);
  });

  it("throws SUMMARIZER_FAILED when the fallback fails too, so callers delete nothing", async () => {
    fake.script({ status: 503, body: "" });
    await assert.rejects(createSummarizer(config({ maxRetries: 0 }), { ...deps, fallback: failing }).summarizeWithFallback(input), (e) => {
      assert.ok(isOpenclawError(e, "SUMMARIZER_FAILED"));
      assert.ok(e.message.includes(`openai-compatible failed: ${where()}: HTTP 503; fallback extractive failed: disk on fire`), e.message);
      return true;
    });
  });

  it("the one-shot summarizeWithFallback takes the config and the same seams", async () => {
    fake.script({ status: 500, body: "" });
    const r = await summarizeWithFallback(config({ maxRetries: 0 }), input, deps);
    assert.equal(r.summarizer, `extractive (fallback: openai-compatible failed: ${where()}: HTTP 500)`);
    assert.equal((await summarizeWithFallback({ type: "extractive", maxTokens: 400 }, input)).summarizer, "extractive");
  });

  it("throws SUMMARIZER_FAILED when the configured extractive summarizer fails", async () => {
    await assert.rejects(
      createSummarizer({ type: "extractive", maxTokens: 400 }, { fallback: failing }).summarizeWithFallback(input),
      (e) => isOpenclawError(e, "SUMMARIZER_FAILED") && /extractive failed: disk on fire/.test(e.message),
    );
  });

  it("does not fall back once the caller has aborted", async () => {
    fake.script("hang");
    const controller = new AbortController();
    const pending = createSummarizer(config(), deps).summarizeWithFallback(input, controller.signal);
    setTimeout(() => controller.abort(), 50);
    await assert.rejects(pending, (e) => isOpenclawError(e, "SUMMARIZER_FAILED") && /aborted/.test(e.message));
  });

  it("an abort during the backoff between retries ends the call at once", async () => {
    fake.script({ status: 500, body: "" });
    const controller = new AbortController();
    const started = Date.now();
    const pending = createSummarizer(config({ maxRetries: 5 }), deps).summarizeWithFallback(input, controller.signal);
    setTimeout(() => controller.abort(), 100);
    await assert.rejects(pending, (e) => isOpenclawError(e, "SUMMARIZER_FAILED") && /summarization aborted/.test(e.message));
    assert.ok(Date.now() - started < 350, "the ~0.5 s backoff is not waited out");
    assert.equal(fake.requests.length, 1);
  });

  it("sends every attempt through the dispatcher given in deps", async () => {
    fake.script({ status: 503, body: "", headers: now }, { status: 200, body: completion("via deps: INV-2024-0042, $1,200") });
    const urls: string[] = [];
    const agent = new Agent();
    const dispatcher = agent.compose((dispatch) => (opts, handler) => {
      urls.push(`${String(opts.origin)}${opts.path}`);
      return dispatch(opts, handler);
    });
    try {
      const r = await createSummarizer(config(), { env, dispatcher }).summarizeWithFallback(input);
      assert.equal(r.text, "via deps: INV-2024-0042, $1,200");
    } finally {
      await agent.close();
    }
    assert.deepEqual(urls, [`${fake.baseUrl}/chat/completions`, `${fake.baseUrl}/chat/completions`]);
  });
});
