import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { isOpenclawError, OpenclawError, type ErrorCode } from "../errors.js";
import { MAX_JSON_DEPTH, nestedDeeperThan } from "./_json-depth.js";
import { noteError, requestIdOf } from "./_request-log.js";

/** The OpenAI error envelope every gateway error uses, so official clients raise their typed errors. */
export interface ErrorBody {
  error: { message: string; type: string; code: string | null; param: string | null };
}

const STATUS: Partial<Record<ErrorCode, ContentfulStatusCode>> = {
  NOT_FOUND: 404,
  INVALID_ID: 400,
  INVALID_KEY: 400,
  INVALID_ARGUMENT: 400,
  AMBIGUOUS_REF: 400,
  IMPORT_INVALID: 400,
  MESSAGE_TOO_LARGE: 413,
  ALREADY_EXISTS: 409,
  CONFLICT: 409,
  SESSION_ARCHIVED: 409,
  SESSION_EXPIRED: 409,
  LOCK_TIMEOUT: 429,
  RATE_LIMITED: 429,
  SESSION_BUSY: 429,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  UNSUPPORTED_MEDIA_TYPE: 415,
  UPSTREAM: 502,
  CLOSED: 503,
  STORE_UNAVAILABLE: 503,
};

/** HTTP status and OpenAI `type` for an error. */
export function classify(err: unknown): { status: ContentfulStatusCode; type: string; code: string; message: string } {
  if (!isOpenclawError(err)) {
    return { status: 500, type: "server_error", code: "internal_error", message: "internal error; the gateway log has the details" };
  }
  let status: ContentfulStatusCode = STATUS[err.code] ?? (err.userError ? 400 : 500);
  // An upstream rate limit is the client's to back off from, as if we had said it.
  if (err.code === "UPSTREAM" && err.status === 429) status = 429;
  if (err.code === "UPSTREAM" && err.status === 503) status = 503;
  const type =
    status === 401
      ? "authentication_error"
      : status === 403
        ? "permission_error"
        : status === 429
          ? "rate_limit_error"
          : status >= 500
            ? "server_error"
            : status === 404
              ? "invalid_request_error"
              : "invalid_request_error";
  const code = err.code === "UNAUTHORIZED" ? "invalid_api_key" : err.code.toLowerCase();
  return { status, type, code, message: err.message };
}

/**
 * `err` classified for the client of `c`, and recorded for the request's log
 * line. An unexpected error's message names the request id, the key to its
 * stack in the gateway log.
 */
export function describeError(c: Context, err: unknown): ReturnType<typeof classify> {
  noteError(c, err);
  const described = classify(err);
  const id = requestIdOf(c);
  if (!isOpenclawError(err) && id !== undefined) described.message = `internal error (request ${id}); the gateway log has the details`;
  return described;
}

/** The JSON error response for `err`. */
export function errorResponse(c: Context, err: unknown): Response {
  const { status, type, code, message } = describeError(c, err);
  const body: ErrorBody = { error: { message, type, code, param: null } };
  if (isOpenclawError(err) && err.retryAfterSeconds !== undefined) c.header("retry-after", String(err.retryAfterSeconds));
  return c.json(body, status);
}

/** A 400 for a malformed request, naming what is wrong. */
export function badRequest(message: string): OpenclawError {
  return new OpenclawError("INVALID_ARGUMENT", message);
}

/**
 * The request's JSON body, refused with one clear line when it is too large,
 * not JSON, or not an object. Reads the stream with a byte cap, so a huge
 * body is never buffered whole.
 */
export async function readJson(c: Context, maxBytes: number): Promise<Record<string, unknown>> {
  const text = await readJsonText(c, maxBytes, "a JSON object");
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw badRequest(text.trim() === "" ? "the request body is empty: send a JSON object" : "the request body is not valid JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw badRequest("the request body must be a JSON object");
  return value as Record<string, unknown>;
}

/**
 * The request body as JSON text, read like {@link readText} and refused with
 * a 400 when nested deeper than {@link MAX_JSON_DEPTH} (parsing and storing
 * such a document would exhaust the stack).
 */
export async function readJsonText(c: Context, maxBytes: number, what: string): Promise<string> {
  const text = await readText(c, maxBytes, what);
  if (nestedDeeperThan(text, MAX_JSON_DEPTH)) throw badRequest(`the request body nests deeper than ${MAX_JSON_DEPTH} levels of objects and arrays: flatten it`);
  return text;
}

/**
 * The request body as text, refused when over `maxBytes` (read with a byte
 * cap, so a huge body is never buffered whole) or missing; `what` names what
 * the client should have sent.
 */
export async function readText(c: Context, maxBytes: number, what: string): Promise<string> {
  const declared = Number(c.req.header("content-length") ?? NaN);
  if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge(maxBytes);
  const body = c.req.raw.body;
  if (body === null) throw badRequest(`the request has no body: send ${what}`);
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    let chunk: Awaited<ReturnType<typeof reader.read>>;
    try {
      chunk = await reader.read();
    } catch (err) {
      // The client went away or was cut off for sending too slowly (Node answered 408): its fault, not a 500 with a stack.
      throw new OpenclawError("ABORTED", "the request body was not received in full: the client disconnected or sent it too slowly (gateway.requestTimeoutMs)", { cause: err });
    }
    const { done, value } = chunk;
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge(maxBytes);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function tooLarge(maxBytes: number): OpenclawError {
  return new OpenclawError("MESSAGE_TOO_LARGE", `the request body is over ${maxBytes} bytes (gateway.maxBodyBytes)`);
}

/** Reads an optional string field of a body. */
export function optString(body: Record<string, unknown>, name: string): string | undefined {
  const v = body[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") throw badRequest(`${name} must be a string`);
  return v;
}

/** Reads an optional boolean field of a body. */
export function optBool(body: Record<string, unknown>, name: string): boolean | undefined {
  const v = body[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "boolean") throw badRequest(`${name} must be true or false`);
  return v;
}
