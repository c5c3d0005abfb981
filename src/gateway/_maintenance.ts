import { isOpenclawError } from "../errors.js";
import type { SessionManager } from "../manager/manager.js";
import { retentionOn, retentionPolicyOf, type PruneTarget } from "../manager/retention.js";
import type { GatewayLog } from "./_log.js";

/** A running retention schedule. */
export interface MaintenanceSchedule {
  /** Stops the schedule and waits for a run in progress (aborted by the gateway's shutdown signal). */
  stop(): Promise<void>;
}

/**
 * Applies `sessions.maintenance` (and the one-off Responses sessions' end,
 * `gateway.responses.oneOffTtl`) at start and every `intervalMs` (never two
 * runs at once), when any rule is on. Each deletion is an `audit` log line
 * (op "prune", credential null: the gateway itself) besides its `deleted`
 * event; each run that deleted or kept something ends with a
 * `maintenance` line.
 */
export function startMaintenance(manager: SessionManager, log: GatewayLog, shutdown: AbortSignal): MaintenanceSchedule {
  const config = manager.config.sessions.maintenance;
  if (!retentionOn(retentionPolicyOf(manager.config))) return { stop: async () => undefined };
  let running: Promise<void> | undefined;
  const audit = (t: PruneTarget): void =>
    log.info(
      { event: "audit", requestId: null, credential: null, op: "prune", sessions: [{ id: t.id, key: t.key }], rule: t.reason, status: t.status, lastActivityAt: t.lastActivityAt, result: "ok" },
      `prune ${t.key}: ok`,
    );
  const run = (): void => {
    if (running !== undefined || shutdown.aborted) return;
    running = (async () => {
      try {
        const r = await manager.prune({ signal: shutdown, onDeleted: audit });
        for (const t of r.skipped)
          log.info({ event: "audit", requestId: null, credential: null, op: "prune", sessions: [{ id: t.id, key: t.key }], rule: t.reason, result: "KEPT", why: t.why }, `prune ${t.key}: kept (${t.why})`);
        if (r.deleted.length > 0 || r.skipped.length > 0 || r.overMax > 0) {
          log.info({ event: "maintenance", deleted: r.deleted.length, kept: r.skipped.length, total: r.total, overMax: r.overMax }, `maintenance: deleted ${r.deleted.length} of ${r.total} sessions`);
        }
      } catch (err) {
        if (!shutdown.aborted)
          log.warn({ event: "maintenance_failed", code: isOpenclawError(err) ? err.code : "INTERNAL", err: err instanceof Error ? err.message : String(err) }, "maintenance run failed; the next run tries again");
      } finally {
        running = undefined;
      }
    })();
  };
  const timer = setInterval(run, config.intervalMs);
  timer.unref();
  run();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
