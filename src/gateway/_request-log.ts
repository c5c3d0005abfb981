import { randomUUID } from "node:crypto";
import type { Context, MiddlewareHandler } from "hono";
import { matchedRoutes } from "hono/route";
import { isOpenclawError } from "../errors.js";
import type { GatewayLog } from "./_log.js";

/** The response header that carries a request's id, so a client can quote it. */
export const REQUEST_ID_HEADER = "x-request-id";

/** A session a request acted on, as its log line and the audit trail name it. */
export interface NotedSession {
  id: string;
  key?: string | undefined;
}

// Context variables this file and its callers share. Routers use an untyped
// hono context, so they are read and written through the helpers below.
const SESSIONS = "loggedSessions";
const ERROR = "loggedError";

/** Records the sessions a request acted on, for its log line and the audit trail. */
export function noteSessions(c: Context, sessions: readonly NotedSession[]): void {
  c.set(SESSIONS, sessions);
}

/** The sessions {@link noteSessions} recorded, empty when none were. */
export function notedSessions(c: Context): readonly NotedSession[] {
  return (c.get(SESSIONS) as readonly NotedSession[] | undefined) ?? [];
}

/** Records the error a response was made from, so the request's line carries it (a 500 with its stack). */
export function noteError(c: Context, err: unknown): void {
  c.set(ERROR, err);
}

/** The error {@link noteError} recorded, if any. */
export function notedError(c: Context): unknown {
  return c.get(ERROR) as unknown;
}

/** The request's id (set by {@link requestLog}); undefined outside it. */
export function requestIdOf(c: Context): string | undefined {
  return c.get("requestId") as string | undefined;
}

/** The name of the credential the request was authenticated as, once the auth middleware has run. */
export function credentialOf(c: Context): string | undefined {
  return (c.get("credential") as { name?: string } | undefined)?.name;
}

/**
 * The route pattern that answered (`/admin/sessions/:ref`), never the raw
 * URL: paths carry ids and query strings may carry secrets. Middleware
 * (registered for every method) is skipped, so a request refused by the
 * auth middleware is still logged under the route it asked for. Null when
 * no route matched.
 */
export function routeOf(c: Context): string | null {
  const routes = matchedRoutes(c);
  for (let i = routes.length - 1; i >= 0; i--) {
    const r = routes[i];
    if (r !== undefined && r.method !== "ALL") return r.path;
  }
  return null;
}

/**
 * One log line per request when it ends: method, route pattern, status,
 * milliseconds, session id and credential name when known, the client's
 * address and a fresh request id (also sent back as `x-request-id`).
 * Responses with a 5xx carry the error and its stack; a refused credential
 * (401, or 403 for a missing scope) also gets an `auth_failure` line.
 * Never bodies, headers, tokens or query strings.
 * Event streams are logged when they end (client gone, finished, or the
 * gateway shutting down), with the whole duration.
 */
export function requestLog(log: GatewayLog, observe?: RequestObserver): MiddlewareHandler {
  return async (c, next) => {
    const started = performance.now();
    const requestId = randomUUID();
    c.set("requestId", requestId);
    // Read now: once a streamed response ends, its socket may be gone.
    const remote = remoteOf(c);
    await next();
    const res = withRequestId(c, requestId);
    // The content type first: asking a response for its body makes the server build a full web Response around it.
    if ((res.headers.get("content-type") ?? "").startsWith("text/event-stream") && res.body !== null) {
      c.res = onBodyEnd(res, (outcome) => {
        write(log, c, { requestId, started, remote }, outcome);
        observe?.(routeOf(c), c.res.status, performance.now() - started);
      });
      return;
    }
    write(log, c, { requestId, started, remote }, undefined);
    observe?.(routeOf(c), res.status, performance.now() - started);
  };
}

/**
 * The response with the request id header set in place. `c.header()` after
 * the handler answered copies the response into a new one (a web stream
 * around its body, ~100 µs); the server's own responses take the header as
 * they are. One whose headers cannot change (a fetched response) is copied.
 */
function withRequestId(c: Context, requestId: string): Response {
  try {
    c.res.headers.set(REQUEST_ID_HEADER, requestId);
  } catch {
    c.header(REQUEST_ID_HEADER, requestId);
  }
  return c.res;
}

/** Hears of every request when it ends: its route pattern (null when none matched), status and milliseconds. */
export type RequestObserver = (route: string | null, status: number, ms: number) => void;

type StreamOutcome = "ended" | "cancelled" | "failed";

function write(log: GatewayLog, c: Context, at: { requestId: string; started: number; remote: string | undefined }, stream: StreamOutcome | undefined): void {
  const { requestId, started, remote } = at;
  const status = c.res.status;
  const method = c.req.method;
  const route = routeOf(c);
  const err = notedError(c);
  const sessionId = notedSessions(c)[0]?.id ?? c.res.headers.get("x-openclaw-session-id") ?? undefined;
  const credential = credentialOf(c);
  const fields: Record<string, unknown> = {
    event: "request",
    requestId,
    method,
    route,
    // Unmatched paths have no pattern; the path (without its query) says what was asked.
    ...(route === null ? { path: c.req.path.slice(0, 200) } : {}),
    status,
    ms: Math.round((performance.now() - started) * 10) / 10,
    ...(sessionId !== undefined ? { sessionId } : {}),
    ...(credential !== undefined ? { credential } : {}),
    ...(remote !== undefined ? { remote } : {}),
    ...(stream !== undefined ? { stream } : {}),
    ...(err !== undefined && (status >= 400 || stream !== undefined) ? { code: codeOf(err) } : {}),
  };
  const msg = `${method} ${route ?? fields.path} ${status}`;
  // A stream that failed after its 200 went out ended with an error event: its error is logged the same way.
  if (status >= 500 || (stream !== undefined && err !== undefined)) log.error({ ...fields, err: errorFields(err) }, msg);
  else if (status === 401 || status === 403) log.warn(fields, msg);
  // Health probes arrive every few seconds: kept out of the default level.
  else if (route === "/health" || route === "/ready" || route === "/metrics") log.debug(fields, msg);
  else log.info(fields, msg);
  // A 403 before any credential is the request guard's (it logs its own line); after one, a missing scope.
  if (status === 401 || (status === 403 && credential !== undefined)) {
    // Its own event, so an operator can alert on refused credentials without parsing every request.
    log.warn(
      { event: "auth_failure", requestId, method, route, status, ...(credential !== undefined ? { credential } : {}), ...(remote !== undefined ? { remote } : {}), reason: reasonOf(err) },
      `refused ${method} ${route ?? fields.path}: ${reasonOf(err)}`,
    );
  }
}

function remoteOf(c: Context): string | undefined {
  // @hono/node-server puts the Node request on the env; absent in app.request() tests.
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined;
  return env?.incoming?.socket?.remoteAddress;
}

function codeOf(err: unknown): string {
  return isOpenclawError(err) ? err.code : "INTERNAL";
}

// Auth refusals are worded by the gateway itself (never the presented token), so they are safe to log.
function reasonOf(err: unknown): string {
  return isOpenclawError(err) ? err.message : "refused";
}

/** What a 5xx line says about its error: the class, code, message and stack, and its cause's. */
export function errorFields(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) return { message: err === undefined ? "no error recorded" : String(err) };
  const out: Record<string, unknown> = { type: err.name, message: err.message, stack: err.stack };
  if (isOpenclawError(err)) out.code = err.code;
  if (err.cause !== undefined) out.cause = err.cause instanceof Error ? { type: err.cause.name, message: err.cause.message, stack: err.cause.stack } : String(err.cause);
  return out;
}

/**
 * `res` with its body passed through unchanged, calling `done` once when
 * the body ends, fails or is cancelled by the client. Pull-based with no
 * buffer of its own, so the producer still sees the client's backpressure.
 */
function onBodyEnd(res: Response, done: (outcome: StreamOutcome) => void): Response {
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  let called = false;
  const finish = (outcome: StreamOutcome): void => {
    if (called) return;
    called = true;
    done(outcome);
  };
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const { done: end, value } = await reader.read();
          if (end) {
            controller.close();
            finish("ended");
          } else controller.enqueue(value);
        } catch (err) {
          controller.error(err);
          finish("failed");
        }
      },
      async cancel(reason) {
        finish("cancelled");
        await reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
  return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
}
