import { inspect } from "node:util";
import type OpenAI from "openai";
import type { ChatCompletion, ChatCompletionChunk, ChatCompletionCreateParamsNonStreaming, ChatCompletionCreateParamsStreaming } from "openai/resources/chat/completions";
import { OpenclawError } from "../errors.js";

/** An OpenAI-compatible upstream: OpenAI, Ollama, vLLM, LM Studio … */
export interface ModelSettings {
  /** Base URL of the API, e.g. http://127.0.0.1:11434/v1 (a trailing /chat/completions and a query string are accepted). */
  baseUrl: string;
  /** Model name sent upstream. */
  model: string;
  /** Name of the environment variable holding the API key (never the key itself). */
  apiKeyEnv?: string | undefined;
  /** Per-attempt timeout. */
  timeoutMs: number;
  /** Retries after the first attempt (429, 5xx, timeouts, connection errors). */
  maxRetries: number;
}

/** Seams for tests and embedders. */
export interface ModelDeps {
  /** Where `apiKeyEnv` is looked up (default: process.env). */
  env?: Readonly<Record<string, string | undefined>>;
  /** HTTP client (default: global fetch); called once per attempt. */
  fetch?: typeof globalThis.fetch;
}

/** A chat-completions request body without `model` and `stream` (the client sets them). */
export type ChatBody = Omit<ChatCompletionCreateParamsNonStreaming, "model" | "stream" | "stream_options">;

/** The one client every part of the engine talks to a model through. */
export interface ModelClient {
  /** The upstream model name. */
  readonly model: string;
  /** One chat completion. Throws UPSTREAM (with the status when there was one) or ABORTED. */
  complete(body: ChatBody, signal?: AbortSignal): Promise<ChatCompletion>;
  /** A streamed chat completion (usage in the last chunk when the server gives it). Same errors as complete. */
  stream(body: ChatBody, signal?: AbortSignal): Promise<AsyncIterable<ChatCompletionChunk>>;
}

/** Longest wait between attempts a server's Retry-After may impose (the SDK's own longest backoff). */
const MAX_RETRY_WAIT_MS = 8_000;

let sdk: Promise<typeof import("openai")> | undefined;

/**
 * Builds the client on the official `openai` SDK (loaded here, on first
 * use, never on paths that do not talk to a model). Retries, timeouts and
 * Retry-After are the SDK's; errors become one-line OpenclawErrors with the
 * API key and base-URL credentials removed.
 */
export async function createModelClient(settings: ModelSettings, deps: ModelDeps = {}): Promise<ModelClient> {
  const { default: OpenAIClass } = await (sdk ??= import("openai"));
  const env = deps.env ?? process.env;
  const key = settings.apiKeyEnv === undefined ? undefined : env[settings.apiKeyEnv];
  const hasKey = key !== undefined && key !== "";
  const secrets = secretsOf(settings.baseUrl, key);
  const { baseURL, query } = sdkBase(settings.baseUrl);
  const baseFetch = deps.fetch ?? globalThis.fetch;
  const sdkClient = (fetch: typeof globalThis.fetch): OpenAI =>
    new OpenAIClass({
      baseURL,
      // Local servers need no key; the SDK insists on one, so a placeholder goes in and the header is dropped below.
      apiKey: hasKey ? key : "unused",
      // Nothing from OPENAI_* variables may reach a third-party server.
      adminAPIKey: null,
      organization: null,
      project: null,
      ...(hasKey ? {} : { defaultHeaders: { Authorization: null } }),
      ...(query !== undefined ? { defaultQuery: query } : {}),
      timeout: settings.timeoutMs,
      maxRetries: settings.maxRetries,
      fetch,
    });
  const completer = sdkClient(guardedFetch(baseFetch, true));
  const streamer = sdkClient(guardedFetch(baseFetch, false));
  const fail = (err: unknown, signal: AbortSignal | undefined): OpenclawError => upstreamError(err, secrets, settings, signal);
  return {
    model: settings.model,
    async complete(body, signal) {
      const params: ChatCompletionCreateParamsNonStreaming = { ...body, model: settings.model, stream: false };
      try {
        return await abortable(completer.chat.completions.create(params, signal === undefined ? {} : { signal }), signal);
      } catch (err) {
        throw fail(err, signal);
      }
    },
    async stream(body, signal) {
      const params: ChatCompletionCreateParamsStreaming = { ...body, model: settings.model, stream: true, stream_options: { include_usage: true } };
      let stream: AsyncIterable<ChatCompletionChunk>;
      try {
        stream = await abortable(streamer.chat.completions.create(params, signal === undefined ? {} : { signal }), signal);
      } catch (err) {
        throw fail(err, signal);
      }
      return (async function* () {
        try {
          for await (const chunk of stream) yield chunk;
        } catch (err) {
          throw fail(err, signal);
        }
        // The SDK ends an aborted stream quietly; a caller must not mistake the partial reply for a whole one.
        if (signal?.aborted) throw fail(new Error("aborted"), signal);
      })();
    },
  };
}

/**
 * Wraps fetch, which the SDK calls once per attempt under its per-attempt
 * timer. Bodies that are not an SSE stream are read here, under that timer,
 * so a server that stalls mid-body times out (and is retried) like one that
 * never answers; a Retry-After longer than {@link MAX_RETRY_WAIT_MS} is cut
 * down to it, since the SDK would wait as long as any server asks.
 */
function guardedFetch(base: typeof globalThis.fetch, bufferSuccess: boolean): typeof globalThis.fetch {
  return async (input, init) => {
    const res = await base(input, init);
    if (res.ok && !bufferSuccess) return res;
    let body: ArrayBuffer | string | null = res.status === 204 || res.status === 205 || res.status === 304 ? null : await res.arrayBuffer();
    if (!res.ok && body !== null) body = errorBody(body);
    const headers = new Headers(res.headers);
    const wait = retryAfterMs(headers);
    if (wait !== undefined && wait > MAX_RETRY_WAIT_MS) {
      headers.delete("retry-after");
      headers.set("retry-after-ms", String(MAX_RETRY_WAIT_MS));
    }
    return new Response(body, { status: res.status, statusText: res.statusText, headers });
  };
}

/**
 * An error body the SDK can read a message from: servers that answer
 * `{"message": …}` or `{"detail": …}` (vLLM, FastAPI) instead of OpenAI's
 * `{"error": …}` get theirs wrapped, or the SDK would drop it.
 */
function errorBody(raw: ArrayBuffer): ArrayBuffer | string {
  try {
    const json: unknown = JSON.parse(new TextDecoder().decode(raw));
    if (typeof json === "object" && json !== null && !Array.isArray(json) && !("error" in json)) return JSON.stringify({ error: json });
  } catch {
    // Not JSON: the SDK keeps the text as the message.
  }
  return raw;
}

/** The wait a response asks for, read as the SDK reads it (retry-after-ms, then Retry-After in seconds or as a date). */
function retryAfterMs(headers: Headers): number | undefined {
  const ms = Number.parseFloat(headers.get("retry-after-ms") ?? "");
  if (ms > 0) return ms;
  const raw = headers.get("retry-after");
  if (raw === null || raw === "") return undefined;
  const seconds = Number.parseFloat(raw);
  return Number.isNaN(seconds) ? Date.parse(raw) - Date.now() : seconds * 1000;
}

/** Rejects as soon as `signal` aborts, even while the SDK sleeps between attempts (its sleep ignores the signal). */
function abortable<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return work;
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(err);
      },
    );
  });
}

/** The UPSTREAM (or ABORTED) error for a failed call, one line, secrets redacted, naming the upstream without credentials. */
function upstreamError(err: unknown, secrets: readonly string[], settings: ModelSettings, signal: AbortSignal | undefined): OpenclawError {
  // The SDK's error may carry the key (a server echoing it) or the base URL's credentials (fetch refuses such URLs): keep it only when clean.
  const cause = secrets.some((s) => inspect(err, { depth: 6 }).includes(s)) ? undefined : err;
  if (signal?.aborted) return new OpenclawError("ABORTED", "the model call was aborted by the caller", { userError: false, cause });
  const status = typeof (err as { status?: unknown }).status === "number" ? ((err as { status: number }).status) : undefined;
  const name = err instanceof Error ? err.constructor.name : "";
  let reason = err instanceof Error ? err.message : String(err);
  if (name === "APIConnectionTimeoutError") reason = `timeout of ${settings.timeoutMs} ms`;
  else if (name === "APIConnectionError") {
    const inner = (err as Error).cause;
    const code = (inner as NodeJS.ErrnoException | undefined)?.code ?? ((inner as { cause?: NodeJS.ErrnoException } | undefined)?.cause?.code);
    reason = `cannot reach the model server${typeof code === "string" ? ` (${code})` : ""}`;
  } else if (err instanceof SyntaxError) reason = "response is not JSON";
  else if (status !== undefined) {
    // The SDK says "500 boom", '500 "boom"' (for {"error": "boom"}) or "503 status code (no body)".
    const error = (err as { error?: unknown }).error;
    const detail = typeof error === "string" ? error : reason.startsWith(`${status} `) ? reason.slice(String(status).length + 1) : reason;
    reason = detail === "status code (no body)" ? `HTTP ${status}` : `HTTP ${status}: ${detail}`;
  }
  const oneLine = redact(reason.replace(/\s+/g, " ").trim(), secrets).slice(0, 300);
  const where = safeOrigin(settings.baseUrl);
  return new OpenclawError("UPSTREAM", `model ${settings.model} at ${where}: ${oneLine}`, { userError: false, cause, ...(status !== undefined ? { status } : {}) });
}

/** The SDK's base URL and default query: a pasted `/chat/completions` endpoint is cut back, a query string (Azure's api-version) kept apart. */
function sdkBase(baseUrl: string): { baseURL: string; query: Record<string, string> | undefined } {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    return { baseURL: baseUrl, query: undefined };
  }
  const query = url.search === "" ? undefined : Object.fromEntries(url.searchParams);
  url.search = "";
  url.hash = "";
  url.pathname = url.pathname.replace(/\/+$/, "").replace(/\/chat\/completions$/, "");
  return { baseURL: url.toString().replace(/\/+$/, ""), query };
}

/** The base URL without user info or query (which may carry credentials). */
export function safeOrigin(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname.replace(/\/+$/, "")}`;
  } catch {
    return "(invalid URL)";
  }
}

/** What must never appear in an error: the key, and the base URL's user info and query values. */
function secretsOf(baseUrl: string, key: string | undefined): string[] {
  const found = key !== undefined && key !== "" ? [key] : [];
  try {
    const u = new URL(baseUrl);
    for (const part of [u.username, u.password, ...u.searchParams.values()]) {
      // Short parts ("v1", "a") would blank out ordinary words; credentials are longer.
      if (part.length >= 4) found.push(part, safeDecode(part));
    }
  } catch {
    // An invalid URL fails on the first call and is never echoed whole.
  }
  return [...new Set(found)];
}

function safeDecode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

function redact(text: string, secrets: readonly string[]): string {
  return secrets.reduce((t, s) => t.split(s).join("[redacted]"), text);
}
