import { inspect } from "node:util";
import { OpenclawError } from "../errors.js";

/** Why one attempt failed, before it becomes the caller's error. */
export interface Failure {
  /** One line, not yet redacted. */
  reason: string;
  /** The upstream's HTTP status, when it answered with one. */
  status?: number | undefined;
  /** Worth another attempt (429, 5xx, timeouts, connection errors). */
  retryable: boolean;
  /** How long the server asked us to wait before the next attempt. */
  retryAfterMs?: number | undefined;
  cause?: unknown;
}

/** How a client names its upstream in errors and what it must never show. */
export interface Upstream {
  model: string;
  /** The base URL without credentials. */
  where: string;
  /** The API key and the base URL's credential-like parts. */
  secrets: readonly string[];
}

/** The UPSTREAM error for `failure`: one line, secrets redacted, naming the upstream, saying how many attempts it took. */
export function upstreamError(up: Upstream, failure: Failure, attempts: number): OpenclawError {
  const cause = clean(failure.cause, up.secrets);
  const tries = attempts > 1 ? ` after ${attempts} attempts` : "";
  const oneLine = redact(failure.reason.replace(/\s+/g, " ").trim(), up.secrets).slice(0, 300);
  return new OpenclawError("UPSTREAM", `model ${up.model} at ${up.where}: ${oneLine}${tries}`, {
    userError: false,
    cause,
    ...(failure.status !== undefined ? { status: failure.status } : {}),
  });
}

/** The ABORTED error for a call its caller gave up on. */
export function abortedError(up: Upstream, cause: unknown): OpenclawError {
  return new OpenclawError("ABORTED", "the model call was aborted by the caller", { userError: false, cause: clean(cause, up.secrets) });
}

/** `cause` when nothing in it (message, stack, nested causes) shows a secret; undefined otherwise. */
function clean(cause: unknown, secrets: readonly string[]): unknown {
  if (cause === undefined || secrets.length === 0) return cause;
  const all = inspect(cause, { depth: 6 });
  return secrets.some((s) => all.includes(s)) ? undefined : cause;
}

/** The failure for a non-2xx answer, its body read as OpenAI, Ollama, vLLM and FastAPI servers write errors. */
export function statusFailure(status: number, text: string, headers: Record<string, string | string[] | undefined>): Failure {
  const detail = errorDetail(text);
  const should = header(headers, "x-should-retry");
  const retryable = should === "true" ? true : should === "false" ? false : status === 408 || status === 409 || status === 429 || status >= 500;
  return { reason: detail === undefined ? `HTTP ${status}` : `HTTP ${status}: ${detail}`, status, retryable, retryAfterMs: retryAfterMs(headers) };
}

/**
 * The message of an error body: `{"error": {"message"}}` (OpenAI),
 * `{"error": "text"}` (Ollama), `{"message"}` (vLLM), anything else JSON
 * as written (`{"detail": …}`), plain text as it is; undefined when empty.
 */
export function errorDetail(text: string): string | undefined {
  if (text.trim() === "") return undefined;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return text;
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) return text;
  const error: unknown = "error" in json ? json.error : json;
  if (typeof error === "string") return error;
  const message = typeof error === "object" && error !== null ? (error as { message?: unknown }).message : undefined;
  if (message !== undefined && message !== null && message !== "") return typeof message === "string" ? message : JSON.stringify(message);
  return JSON.stringify(error);
}

/** The failure for an error thrown while sending or reading (connection refused, reset, undici's timeouts). */
export function networkFailure(err: unknown): Failure {
  const code = errorCode(err);
  if (code === "UND_ERR_SOCKET") return { reason: "the model server closed the connection (UND_ERR_SOCKET)", retryable: true, cause: err };
  if (code !== undefined && (/^E[A-Z]+$/.test(code) || code === "UND_ERR_CONNECT_TIMEOUT")) {
    return { reason: `cannot reach the model server (${code})`, retryable: true, cause: err };
  }
  const reason = err instanceof Error ? err.message : String(err);
  return { reason: code === undefined ? reason : `${reason} (${code})`, retryable: code !== undefined && !code.startsWith("UND_ERR_INVALID") && code !== "UND_ERR_NOT_SUPPORTED", cause: err };
}

/** The error's `code`, or that of the first of an AggregateError's errors (a refused connection tried on several addresses). */
export function errorCode(err: unknown): string | undefined {
  const own = (err as { code?: unknown } | null | undefined)?.code;
  if (typeof own === "string") return own;
  const first = (err as { errors?: unknown[] } | null | undefined)?.errors?.[0];
  const inner = (first as { code?: unknown } | undefined)?.code ?? (err as { cause?: { code?: unknown } } | undefined)?.cause?.code;
  return typeof inner === "string" ? inner : undefined;
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** The wait a response asks for: `retry-after-ms`, else `Retry-After` in seconds or as a date. */
function retryAfterMs(headers: Record<string, string | string[] | undefined>): number | undefined {
  const ms = Number.parseFloat(header(headers, "retry-after-ms") ?? "");
  if (ms >= 0) return ms;
  const raw = header(headers, "retry-after");
  if (raw === undefined || raw === "") return undefined;
  const seconds = Number.parseFloat(raw);
  const wait = Number.isNaN(seconds) ? Date.parse(raw) - Date.now() : seconds * 1000;
  return Number.isNaN(wait) ? undefined : wait;
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
export function secretsOf(baseUrl: string, key: string | undefined): string[] {
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
