import type { Context, MiddlewareHandler } from "hono";
import { isOpenclawError } from "../errors.js";
import type { GatewayLog } from "./_log.js";
import { credentialOf, notedError, notedSessions, requestIdOf, routeOf } from "./_request-log.js";

const DETAIL = "auditDetail";

/** Adds what a change did beyond its sessions (the fields an edit touched, a dry run…) to its audit line. Never values. */
export function noteAudit(c: Context, detail: Record<string, unknown>): void {
  c.set(DETAIL, { ...((c.get(DETAIL) as Record<string, unknown> | undefined) ?? {}), ...detail });
}

/** The operation a state-changing admin route performs: `edit`, `delete`, `import`, `clear`, `archive`… */
export function operationOf(method: string, route: string | null): string {
  if (route === null) return `${method.toLowerCase()} (no route)`;
  if (method === "PATCH") return "edit";
  if (method === "DELETE") return "delete";
  const last = route.split("/").pop() ?? "";
  return last === "" || last.startsWith(":") ? `${method.toLowerCase()} ${route}` : last;
}

/**
 * The audit trail of the admin API: one `audit` line for every request
 * that may change state (anything but GET, HEAD and OPTIONS), when it ends
 * and whatever its outcome — who (the credential's name), what (the
 * operation), which sessions (id and key; the reference asked for when the
 * change was refused before one was found) and the result (`ok`, or the
 * error code). Runs after the auth middleware, so a refused credential
 * shows up as an `auth_failure` instead.
 */
export function auditTrail(log: GatewayLog): MiddlewareHandler {
  return async (c, next) => {
    const method = c.req.method;
    if (method === "GET" || method === "HEAD" || method === "OPTIONS") return next();
    await next();
    const route = routeOf(c);
    const op = operationOf(method, route);
    const status = c.res.status;
    const err = notedError(c);
    const ok = status < 400;
    const result = ok ? "ok" : isOpenclawError(err) ? err.code : status >= 500 ? "INTERNAL" : `HTTP_${status}`;
    const sessions = notedSessions(c).map((s) => ({ id: s.id, ...(s.key !== undefined ? { key: s.key } : {}) }));
    const ref = c.req.param("ref");
    const who = credentialOf(c) ?? null;
    const detail = (c.get(DETAIL) as Record<string, unknown> | undefined) ?? {};
    const fields = {
      event: "audit",
      requestId: requestIdOf(c),
      credential: who,
      op,
      ...(ref !== undefined ? { ref: ref.slice(0, 200) } : {}),
      sessions,
      ...detail,
      result,
      status,
    };
    const what = sessions.length === 1 ? (sessions[0]?.key ?? sessions[0]?.id) : sessions.length > 1 ? `${sessions.length} sessions` : (ref ?? "");
    const msg = `${op}${what === "" ? "" : ` ${what}`}: ${result}`;
    if (ok) log.info(fields, msg);
    else log.warn(fields, msg);
  };
}
