import type { Config } from "../config/schema.js";
import { effectiveStatus, evaluateExpiry } from "../session/lifecycle.js";
import { evaluateReset, isOneOff, resetAt } from "../session/reset.js";
import type { ExportEnvelope } from "../session/export.js";
import type { Session, SessionSummary } from "../session/types.js";
import { throwIfAborted } from "../store/_mutex.js";
import type { ManagerContext, SessionWriter, WriteOptions } from "./_context.js";
import type { SessionRef } from "./admin.js";
import { transferModule } from "./_lazy.js";

/** The retention rules (`sessions.maintenance`, and `gateway.responses.oneOffTtl` for one-off Responses sessions); null turns a rule off. */
export type RetentionPolicy = Pick<Config["sessions"]["maintenance"], "deleteArchivedAfter" | "deleteExpiredAfter" | "maxSessions"> & Pick<Config["gateway"]["responses"], "oneOffTtl">;

/** Which rule selected a session. */
export type PruneReason = "deleteArchivedAfter" | "deleteExpiredAfter" | "maxSessions" | "oneOffTtl";

/** A session retention deletes (or would), and why. */
export interface PruneTarget extends SessionRef {
  reason: PruneReason;
}

/** Options of {@link pruneSessions}. */
export interface PruneOptions extends WriteOptions {
  /** Rules to apply instead of the config's. */
  policy?: Partial<RetentionPolicy>;
  /** Report what would be deleted; delete nothing. */
  dryRun?: boolean;
  /** Receives an export of the sessions about to be deleted, before the first deletion (a failure deletes nothing). */
  backup?: (envelope: ExportEnvelope) => Promise<void>;
  /** Called after each deletion, in order. */
  onDeleted?: (target: PruneTarget) => void;
}

/** What {@link pruneSessions} did. */
export interface PruneReport {
  dryRun: boolean;
  policy: RetentionPolicy;
  /** Sessions in the store before. */
  total: number;
  /** Deleted (or, dry, to be deleted), oldest activity first. */
  deleted: PruneTarget[];
  /** Selected but kept: it became live, changed or vanished before its turn. */
  skipped: Array<PruneTarget & { why: string }>;
  /** Sessions still over maxSessions: every one left is live, and a live session is never deleted. */
  overMax: number;
}

const LIVE = new Set(["created", "active"]);

/** The instant an expired session expired: as stored, else its last activity plus the expiry window. */
function expiredAt(s: SessionSummary, expiryMs: number): number {
  return s.expiredAt !== null ? Date.parse(s.expiredAt) : Date.parse(s.lastActivityAt) + expiryMs;
}

/**
 * The sessions the rules select, oldest activity first: archived ones
 * archived longer than deleteArchivedAfter, expired ones expired longer
 * than deleteExpiredAfter, expired one-off Responses sessions (their expiry
 * is their end: nothing can continue them) when oneOffTtl is on, then,
 * while more than maxSessions would remain, the oldest other archived or
 * expired ones. Live sessions are never selected.
 */
export function selectForRetention(items: readonly SessionSummary[], policy: RetentionPolicy, now: Date, expiryMs: number): { targets: PruneTarget[]; overMax: number } {
  const t = now.getTime();
  const chosen = new Map<string, PruneTarget>();
  const ref = (s: SessionSummary, reason: PruneReason): PruneTarget => ({ id: s.id, key: s.key, status: s.status, lastActivityAt: s.lastActivityAt, reason });
  for (const s of items) {
    if (s.status === "archived" && policy.deleteArchivedAfter !== null && Date.parse(s.archivedAt ?? s.lastActivityAt) + policy.deleteArchivedAfter <= t) chosen.set(s.id, ref(s, "deleteArchivedAfter"));
    if (s.status === "expired" && policy.deleteExpiredAfter !== null && expiredAt(s, expiryMs) + policy.deleteExpiredAfter <= t) chosen.set(s.id, ref(s, "deleteExpiredAfter"));
    else if (s.status === "expired" && policy.oneOffTtl !== null && isOneOff(s)) chosen.set(s.id, ref(s, "oneOffTtl"));
  }
  const oldestFirst = [...items].sort((a, b) => Date.parse(a.lastActivityAt) - Date.parse(b.lastActivityAt) || (a.id < b.id ? -1 : 1));
  let overMax = 0;
  if (policy.maxSessions !== null) {
    let left = items.length - chosen.size;
    for (const s of oldestFirst) {
      if (left <= policy.maxSessions) break;
      if (LIVE.has(s.status) || chosen.has(s.id)) continue;
      chosen.set(s.id, ref(s, "maxSessions"));
      left--;
    }
    overMax = Math.max(0, left - policy.maxSessions);
  }
  return { targets: oldestFirst.filter((s) => chosen.has(s.id)).map((s) => chosen.get(s.id) as PruneTarget), overMax };
}

/** Why the current document must be kept although it was selected: it is live now, or no longer what was selected. */
function keepReason(current: Session, target: PruneTarget, ctx: ManagerContext): string | null {
  const now = ctx.now();
  const status = evaluateReset(evaluateExpiry(current, ctx.expiryMs, now), ctx.resetPolicy(current), now).status;
  if (LIVE.has(status)) return `it is ${status} now`;
  if (target.reason === "oneOffTtl" && !isOneOff(current)) return "it was continued since it was selected";
  if (target.reason === "deleteArchivedAfter" && status !== "archived") return `it is ${status} now, not archived`;
  if (current.lastActivityAt !== target.lastActivityAt) return "it had activity since it was selected";
  return null;
}

/**
 * Applies the retention rules: selects (see selectForRetention), optionally
 * exports what it selected, then deletes oldest first, each under the
 * session's lock and at the revision it checked, so a session that became
 * live meanwhile is kept. Each deletion is a `deleted` event.
 */
export async function pruneSessions(ctx: ManagerContext, writer: SessionWriter, options: PruneOptions = {}): Promise<PruneReport> {
  const policy: RetentionPolicy = { ...retentionPolicyOf(ctx.config), ...options.policy };
  const all = (await ctx.store.list({ expiryCutoff: ctx.cutoff() })).items;
  // The list's statuses are as of its cutoff (the idle expiry every policy shares); each
  // session's own policy (a daily reset, a shorter idle window, a one-off's) is applied here.
  // Checked once more per session before it goes.
  const cutoff = ctx.cutoff();
  const now = ctx.now();
  const items = all.map((s): SessionSummary => {
    const status = effectiveStatus(s, cutoff);
    const at = LIVE.has(status) ? resetAt(s, ctx.resetPolicy(s)) : null;
    return at !== null && at.getTime() <= now.getTime() ? { ...s, status: "expired", expiredAt: at.toISOString() } : { ...s, status };
  });
  const { targets, overMax } = selectForRetention(items, policy, ctx.now(), ctx.expiryMs);
  const report: PruneReport = { dryRun: options.dryRun === true, policy, total: all.length, deleted: [], skipped: [], overMax };
  if (options.dryRun === true || targets.length === 0) {
    if (options.dryRun === true) report.deleted = targets;
    return report;
  }
  if (options.backup !== undefined) {
    const { exportSessions } = await transferModule();
    await options.backup(
      await exportSessions(
        ctx,
        writer,
        targets.map((t) => t.id),
        { ...options, requireAll: false },
      ),
    );
  }
  for (const target of targets) {
    throwIfAborted(options.signal);
    const why = await writer.removeUnless(target.id, (current) => keepReason(current, target, ctx), options);
    if (why === null) {
      report.deleted.push(target);
      options.onDeleted?.(target);
    } else if (why !== "gone") report.skipped.push({ ...target, why });
    // "gone": another process (a second gateway's schedule) deleted it first.
  }
  return report;
}

/** The retention rules a configuration sets. */
export function retentionPolicyOf(config: Config): RetentionPolicy {
  const m = config.sessions.maintenance;
  return { deleteArchivedAfter: m.deleteArchivedAfter, deleteExpiredAfter: m.deleteExpiredAfter, maxSessions: m.maxSessions, oneOffTtl: config.gateway.responses.oneOffTtl };
}

/** True when any rule is on. */
export function retentionOn(policy: RetentionPolicy): boolean {
  return policy.deleteArchivedAfter !== null || policy.deleteExpiredAfter !== null || policy.maxSessions !== null || policy.oneOffTtl !== null;
}
