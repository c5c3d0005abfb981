import { setTimeout as sleep } from "node:timers/promises";
import type { ChatCompletion, ChatCompletionChunk, ChatCompletionCreateParamsNonStreaming } from "openai/resources/chat/completions";
import type { Dispatcher } from "undici";
import { OpenclawError } from "../errors.js";
import { abortedError, errorCode, networkFailure, safeOrigin, secretsOf, statusFailure, upstreamError, type Failure, type Upstream } from "./_failure.js";
import { sseEvents } from "./_sse.js";

export { safeOrigin } from "./_failure.js";

/** An OpenAI-compatible upstream: OpenAI, Ollama, vLLM, LM Studio … */
export interface ModelSettings {
  /** Base URL of the API, e.g. http://127.0.0.1:11434/v1 (a trailing /chat/completions and a query string are accepted). */
  baseUrl: string;
  /** Model name sent upstream. */
  model: string;
  /** Name of the environment variable holding the API key (never the key itself). */
  apiKeyEnv?: string | undefined;
  /** Per-attempt bound: a whole non-streamed response, or a stream's response head. */
  timeoutMs: number;
  /** Retries after the first attempt (429, 5xx, timeouts, connection errors). */
  maxRetries: number;
  /** Longest silence allowed between two pieces of a streamed reply (default {@link DEFAULT_STREAM_IDLE_TIMEOUT_MS}). */
  streamIdleTimeoutMs?: number | undefined;
}

/** Seams for tests and embedders. */
export interface ModelDeps {
  /** Where `apiKeyEnv` is looked up (default: process.env). */
  env?: Readonly<Record<string, string | undefined>>;
  /** The undici dispatcher every attempt goes through (default: a keep-alive Pool per origin, shared in the process). */
  dispatcher?: Dispatcher;
}

/** A chat-completions request body without `model` and `stream` (the client sets them). */
export type ChatBody = Omit<ChatCompletionCreateParamsNonStreaming, "model" | "stream" | "stream_options">;

/** The one client every part of the engine talks to a model through. */
export interface ModelClient {
  /** The upstream model name. */
  readonly model: string;
  /** One chat completion, to `model` when given (a session's own model) else the configured one. Throws UPSTREAM (with the status when there was one) or ABORTED. */
  complete(body: ChatBody, signal?: AbortSignal, model?: string): Promise<ChatCompletion>;
  /** A streamed chat completion (usage in the last chunk when the server gives it). Same errors as complete, also while iterating. */
  stream(body: ChatBody, signal?: AbortSignal, model?: string): Promise<AsyncIterable<ChatCompletionChunk>>;
}

/** A stream silent for this long is cut off when the settings do not say otherwise. */
export const DEFAULT_STREAM_IDLE_TIMEOUT_MS = 30_000;

/** Longest wait between attempts a server's Retry-After may impose. */
const MAX_RETRY_WAIT_MS = 8_000;
/** First backoff between attempts, doubled each time up to {@link MAX_RETRY_WAIT_MS}, less up to 25 % jitter. */
const FIRST_BACKOFF_MS = 500;

let undici: Promise<typeof import("undici")> | undefined;
const pools = new Map<string, Dispatcher>();

/** The process's keep-alive pool for `origin`: the gateway's turns and the summarizer share connections to one server. */
async function poolFor(origin: string): Promise<Dispatcher> {
  const { Pool } = await (undici ??= import("undici"));
  let pool = pools.get(origin);
  if (pool === undefined) {
    pool = new Pool(origin);
    pools.set(origin, pool);
  }
  return pool;
}

/**
 * Builds the client on undici's keep-alive pool (loaded here, on first
 * use, never on paths that do not talk to a model). Retries 429, 5xx,
 * timeouts and connection errors with backoff (honouring Retry-After up to
 * 8 s); errors are one-line OpenclawErrors with the API key and base-URL
 * credentials removed.
 */
export async function createModelClient(settings: ModelSettings, deps: ModelDeps = {}): Promise<ModelClient> {
  const env = deps.env ?? process.env;
  const key = settings.apiKeyEnv === undefined ? undefined : env[settings.apiKeyEnv];
  const up: Upstream = { model: settings.model, where: safeOrigin(settings.baseUrl), secrets: secretsOf(settings.baseUrl, key) };
  const endpoint = endpointOf(settings.baseUrl);
  const dispatcher = "refused" in endpoint ? undefined : (deps.dispatcher ?? (await poolFor(endpoint.origin)));
  // Nothing from OPENAI_* variables is sent: a third-party server gets only what the settings name.
  const headers: Record<string, string> = { "content-type": "application/json", accept: "application/json", "user-agent": "openclaw-sessions" };
  if (key !== undefined && key !== "") headers.authorization = `Bearer ${key}`;
  const idleMs = settings.streamIdleTimeoutMs ?? DEFAULT_STREAM_IDLE_TIMEOUT_MS;

  /**
   * Sends `payload` until an attempt gets a 2xx head (and, for `complete`,
   * its whole body within the timeout), retrying what is worth retrying.
   */
  async function exchange<T>(payload: string, signal: AbortSignal | undefined, stream: boolean, take: (res: Dispatcher.ResponseData, attempt: Attempt) => Promise<T>): Promise<T> {
    if ("refused" in endpoint || dispatcher === undefined) throw upstreamError(up, { reason: "refused" in endpoint ? endpoint.refused : "no dispatcher", retryable: false }, 1);
    for (let attempts = 1; ; attempts++) {
      if (signal?.aborted) throw abortedError(up, signal.reason);
      const attempt = new Attempt(settings.timeoutMs, signal);
      let failure: Failure;
      try {
        const res = await dispatcher.request({
          origin: endpoint.origin,
          path: endpoint.path,
          method: "POST",
          headers,
          body: payload,
          signal: attempt.signal,
          // The attempt's own timer bounds the head and, unless streaming, the whole body; undici's body timer is the stream's idle bound.
          headersTimeout: 0,
          bodyTimeout: stream ? idleMs : 0,
        });
        if (res.statusCode >= 200 && res.statusCode < 300) return await take(res, attempt);
        failure = statusFailure(res.statusCode, await res.body.text(), res.headers);
      } catch (err) {
        if (err instanceof OpenclawError) throw err;
        failure = attempt.failure(err);
      } finally {
        attempt.settle();
      }
      if (signal?.aborted) throw abortedError(up, signal.reason);
      if (!failure.retryable || attempts > settings.maxRetries) throw upstreamError(up, failure, attempts);
      const wait = failure.retryAfterMs !== undefined && failure.retryAfterMs >= 0 ? Math.min(failure.retryAfterMs, MAX_RETRY_WAIT_MS) : backoffMs(attempts);
      try {
        await sleep(wait, undefined, signal === undefined ? undefined : { signal });
      } catch {
        throw abortedError(up, signal?.reason);
      }
    }
  }

  return {
    model: settings.model,
    complete(body, signal, model) {
      const payload = JSON.stringify({ ...body, model: model ?? settings.model, stream: false });
      return exchange(payload, signal, false, async (res, attempt) => {
        const text = await res.body.text();
        try {
          return JSON.parse(text) as ChatCompletion;
        } catch (err) {
          attempt.settle();
          throw upstreamError(up, { reason: "response is not JSON", retryable: false, cause: err }, 1);
        }
      });
    },
    stream(body, signal, model) {
      const payload = JSON.stringify({ ...body, model: model ?? settings.model, stream: true, stream_options: { include_usage: true } });
      return exchange(payload, signal, true, async (res, attempt) => {
        attempt.keepForBody();
        return chunks(res.body, attempt, signal);
      });
    },
  };

  async function* chunks(body: Dispatcher.ResponseData["body"], attempt: Attempt, signal: AbortSignal | undefined): AsyncGenerator<ChatCompletionChunk> {
    let done = false;
    try {
      for await (const event of sseEvents(body)) {
        // Read on to the end of the response after [DONE], so the connection goes back to the pool.
        if (done) continue;
        if (event.data.startsWith("[DONE]")) {
          done = true;
          continue;
        }
        let chunk: ChatCompletionChunk & { error?: unknown };
        try {
          chunk = JSON.parse(event.data) as ChatCompletionChunk;
        } catch (err) {
          throw upstreamError(up, { reason: "a streamed chunk is not JSON", retryable: false, cause: err }, 1);
        }
        if (event.event === "error" || (chunk.error !== undefined && chunk.error !== null)) {
          throw upstreamError(up, { reason: `the stream ended with an error: ${streamErrorDetail(chunk)}`, retryable: false }, 1);
        }
        yield chunk;
      }
    } catch (err) {
      if (signal?.aborted) throw abortedError(up, signal.reason);
      // A server that holds the connection open after [DONE] has still given the whole reply.
      if (done) return;
      if (err instanceof OpenclawError) throw err;
      if (errorCode(err) === "UND_ERR_BODY_TIMEOUT") {
        throw upstreamError(up, { reason: `no data from the model for ${idleMs} ms (streamIdleTimeoutMs): the stream was cut off`, retryable: false, cause: err }, 1);
      }
      const failure = networkFailure(err);
      throw upstreamError(up, { ...failure, reason: `the stream broke off: ${failure.reason}` }, 1);
    } finally {
      attempt.release();
      if (!body.destroyed && !done) body.destroy();
    }
    // An aborted body may end without an error; a caller must not mistake the partial reply for a whole one.
    if (signal?.aborted) throw abortedError(up, signal.reason);
  }
}

/**
 * One attempt's bounds: its timer (`timeoutMs`) and the caller's signal,
 * both ending the request through one controller that undici watches.
 */
class Attempt {
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;
  private timedOut = false;
  private kept = false;
  private readonly onAbort: (() => void) | undefined;

  constructor(
    private readonly timeoutMs: number,
    private readonly caller: AbortSignal | undefined,
  ) {
    this.timer = setTimeout(() => {
      this.timedOut = true;
      this.controller.abort(new Error(`timeout of ${timeoutMs} ms`));
    }, timeoutMs);
    if (caller !== undefined) {
      this.onAbort = () => this.controller.abort(caller.reason);
      caller.addEventListener("abort", this.onAbort, { once: true });
    }
  }

  /** What undici watches. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** A streamed head arrived: the attempt's timer stops, the caller's signal stays linked until {@link release}. */
  keepForBody(): void {
    clearTimeout(this.timer);
    this.kept = true;
  }

  /** The attempt is over, unless its body was kept for a stream. */
  settle(): void {
    if (!this.kept) this.release();
  }

  /** Unlinks the caller's signal and stops the timer. */
  release(): void {
    clearTimeout(this.timer);
    if (this.onAbort !== undefined) this.caller?.removeEventListener("abort", this.onAbort);
  }

  /** The failure an error thrown by this attempt stands for. */
  failure(err: unknown): Failure {
    if (this.timedOut) return { reason: `timeout of ${this.timeoutMs} ms`, retryable: true };
    return networkFailure(err);
  }
}

/** The SDKs' backoff before attempt `attempts + 1`: 0.5 s, 1 s, 2 s … up to 8 s, less up to 25 % jitter. */
function backoffMs(attempts: number): number {
  return Math.min(FIRST_BACKOFF_MS * 2 ** (attempts - 1), MAX_RETRY_WAIT_MS) * (1 - Math.random() * 0.25);
}

/** Where requests go: the base URL's origin and `<path>/chat/completions` with its query, or why the URL cannot be used. */
function endpointOf(baseUrl: string): { origin: string; path: string } | { refused: string } {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    return { refused: "the base URL is not a valid URL" };
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return { refused: "the base URL must start with http:// or https://" };
  if (url.username !== "" || url.password !== "") {
    return { refused: "the base URL carries a user name or password, which is never sent: put the key in the variable named by apiKeyEnv" };
  }
  const path = `${url.pathname.replace(/\/+$/, "").replace(/\/chat\/completions$/, "")}/chat/completions${url.search}`;
  return { origin: url.origin, path };
}

/** The message of an in-stream error event (`{"error": {"message": …}}` or `{"error": "…"}`). */
function streamErrorDetail(chunk: { error?: unknown }): string {
  const e = chunk.error;
  if (typeof e === "string") return e;
  const message = (e as { message?: unknown } | undefined)?.message;
  return typeof message === "string" ? message : JSON.stringify(e ?? chunk);
}
