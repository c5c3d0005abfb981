import { Hono, type Context, type Handler } from "hono";
import { isOpenclawError, OpenclawError } from "../errors.js";
import type { GatewayDeps } from "./_deps.js";
import { guarded } from "./_admin-params.js";
import type { Telemetry } from "./_telemetry.js";

/** How long `/ready` waits for the store's answer. */
export const READY_TIMEOUT_MS = 2_000;

/** The body of `GET /admin/runtime`: the gateway process as `openclaw status --verbose` shows it. */
export interface RuntimeReport {
  pid: number;
  startedAt: string;
  uptimeSeconds: number;
  memory: { rss: number; heapUsed: number; heapTotal: number };
  /** Session documents in this process's cache. */
  sessionsCached: number;
  /** Turns a minute over the last 60 seconds and over the last hour. */
  turnsPerMinute: { lastMinute: number; lastHour: number };
}

function telemetryOf(deps: GatewayDeps): Telemetry {
  if (deps.telemetry === undefined) throw new OpenclawError("CLOSED", "this gateway does not observe itself", { userError: false, status: 503 });
  return deps.telemetry;
}

/** `GET /metrics`: the Prometheus text exposition (mounted behind the admin:read scope unless gateway.metrics.public). */
export function metricsHandler(deps: GatewayDeps): Handler {
  return guarded(async (c) => {
    const { body, contentType } = await telemetryOf(deps).metrics.render();
    return c.body(body, 200, { "content-type": contentType, "cache-control": "no-store" });
  });
}

/**
 * `GET /ready`: 200 when the store answers a cheap question within
 * {@link READY_TIMEOUT_MS}, else 503 with one line saying why. Names the
 * backend only, never where it is or with which credentials.
 */
export function readyHandler(deps: GatewayDeps): (c: Context) => Promise<Response> {
  return async (c) => {
    c.header("cache-control", "no-store");
    if (deps.draining.aborted) return c.json({ ready: false, reason: "the gateway is shutting down" }, 503);
    const started = performance.now();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new OpenclawError("STORE_UNAVAILABLE", `the store did not answer within ${READY_TIMEOUT_MS} ms`)), READY_TIMEOUT_MS);
    });
    try {
      const store = await Promise.race([deps.manager.probeStore(), late]);
      return c.json({ ready: true, store: { backend: store.backend, ms: Math.round((performance.now() - started) * 10) / 10 } });
    } catch (err) {
      return c.json({ ready: false, reason: reasonOf(err) }, 503);
    } finally {
      clearTimeout(timer);
    }
  };
}

/** One line for an unready store; the stores' own messages already hide credentials. */
function reasonOf(err: unknown): string {
  if (isOpenclawError(err, "CLOSED")) return "the store is closed";
  const first = (text: string) => text.split("\n")[0] ?? "";
  if (isOpenclawError(err)) return `the store is unavailable: ${first(err.message)}`;
  return `the store failed (${err instanceof Error ? err.name : "unknown error"})`;
}

/**
 * Under `/admin` (admin:read): `/activity`, the last hour of turns per
 * minute for the dashboard's live view, and `/runtime`, this process's
 * memory, cache, uptime and turn rates for `openclaw status --verbose`.
 */
export function activityRouter(deps: GatewayDeps): Hono {
  const app = new Hono();
  app.get(
    "/activity",
    guarded(async (c) => c.json(telemetryOf(deps).activity.report(Date.now()))),
  );
  app.get(
    "/runtime",
    guarded(async (c) => {
      const t = telemetryOf(deps);
      const now = Date.now();
      const m = process.memoryUsage();
      const report: RuntimeReport = {
        pid: process.pid,
        startedAt: new Date(t.startedAt).toISOString(),
        uptimeSeconds: Math.round((now - t.startedAt) / 1000),
        memory: { rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal },
        sessionsCached: deps.manager.cachedSessions(),
        turnsPerMinute: t.activity.rates(now),
      };
      return c.json(report);
    }),
  );
  return app;
}
