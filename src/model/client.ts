import type OpenAI from "openai";
import type { ChatCompletion, ChatCompletionChunk, ChatCompletionCreateParamsNonStreaming, ChatCompletionCreateParamsStreaming } from "openai/resources/chat/completions";
import { OpenclawError } from "../errors.js";

/** An OpenAI-compatible upstream: OpenAI, Ollama, vLLM, LM Studio … */
export interface ModelSettings {
  /** Base URL of the API, e.g. http://127.0.0.1:11434/v1. */
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
  /** HTTP client (default: global fetch). */
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

let sdk: Promise<typeof import("openai")> | undefined;

/**
 * Builds the client on the official `openai` SDK (loaded here, on first
 * use, never on paths that do not talk to a model). Retries, timeouts and
 * Retry-After are the SDK's; errors become one-line OpenclawErrors with the
 * API key removed from every message.
 */
export async function createModelClient(settings: ModelSettings, deps: ModelDeps = {}): Promise<ModelClient> {
  const { default: OpenAIClass } = await (sdk ??= import("openai"));
  const env = deps.env ?? process.env;
  const key = settings.apiKeyEnv === undefined ? undefined : env[settings.apiKeyEnv];
  const client: OpenAI = new OpenAIClass({
    baseURL: settings.baseUrl,
    // Local servers need no key; the SDK insists on one, so an unused placeholder goes.
    apiKey: key !== undefined && key !== "" ? key : "unused",
    timeout: settings.timeoutMs,
    maxRetries: settings.maxRetries,
    ...(deps.fetch !== undefined ? { fetch: deps.fetch } : {}),
  });
  const fail = (err: unknown, signal: AbortSignal | undefined): OpenclawError => upstreamError(err, key, settings, signal);
  return {
    model: settings.model,
    async complete(body, signal) {
      const params: ChatCompletionCreateParamsNonStreaming = { ...body, model: settings.model, stream: false };
      try {
        return await client.chat.completions.create(params, signal === undefined ? {} : { signal });
      } catch (err) {
        throw fail(err, signal);
      }
    },
    async stream(body, signal) {
      const params: ChatCompletionCreateParamsStreaming = { ...body, model: settings.model, stream: true, stream_options: { include_usage: true } };
      let stream: AsyncIterable<ChatCompletionChunk>;
      try {
        stream = await client.chat.completions.create(params, signal === undefined ? {} : { signal });
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

/** The UPSTREAM (or ABORTED) error for a failed call, one line, key redacted, naming the upstream without credentials. */
function upstreamError(err: unknown, key: string | undefined, settings: ModelSettings, signal: AbortSignal | undefined): OpenclawError {
  if (signal?.aborted) return new OpenclawError("ABORTED", "the model call was aborted by the caller", { userError: false, cause: err });
  const status = typeof (err as { status?: unknown }).status === "number" ? ((err as { status: number }).status) : undefined;
  const name = err instanceof Error ? err.constructor.name : "";
  let reason = err instanceof Error ? err.message : String(err);
  if (name === "APIConnectionTimeoutError") reason = `timeout of ${settings.timeoutMs} ms`;
  else if (name === "APIConnectionError") {
    const cause = (err as Error).cause;
    const code = (cause as NodeJS.ErrnoException | undefined)?.code ?? ((cause as { cause?: NodeJS.ErrnoException } | undefined)?.cause?.code);
    reason = `cannot reach the model server${typeof code === "string" ? ` (${code})` : ""}`;
  }
  const oneLine = redact(reason.replace(/\s+/g, " ").trim(), key).slice(0, 300);
  const where = safeOrigin(settings.baseUrl);
  return new OpenclawError("UPSTREAM", `model ${settings.model} at ${where}: ${oneLine}`, { userError: false, cause: err, ...(status !== undefined ? { status } : {}) });
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

/** Removes the API key from text that may echo it. */
export function redact(text: string, key: string | undefined): string {
  return key !== undefined && key.length > 0 ? text.split(key).join("[redacted]") : text;
}
