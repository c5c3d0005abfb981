import type { Command } from "commander";
import type { PruneReport, PruneTarget, RetentionPolicy } from "../../manager/retention.js";
import { withManager } from "../_context.js";
import { writeFileAtomic } from "../_io.js";
import { colors, plural, print, printJson, relativeTime, visible } from "../_render.js";

/** Flags of `sessions prune`. */
export interface PruneFlags {
  dryRun?: boolean;
  json?: boolean;
  backup?: string;
  archivedAfter?: number;
  expiredAfter?: number;
  maxSessions?: number;
}

const RULE = {
  deleteArchivedAfter: "archived longer than sessions.maintenance.deleteArchivedAfter",
  deleteExpiredAfter: "expired longer than sessions.maintenance.deleteExpiredAfter",
  maxSessions: "over sessions.maintenance.maxSessions, oldest first",
  oneOffTtl: "a one-off Responses session past gateway.responses.oneOffTtl",
} as const;

/** `openclaw sessions prune`: applies the retention rules now. */
export async function runPrune(flags: PruneFlags, cmd: Command): Promise<void> {
  const policy: Partial<RetentionPolicy> = {
    ...(flags.archivedAfter !== undefined ? { deleteArchivedAfter: flags.archivedAfter } : {}),
    ...(flags.expiredAfter !== undefined ? { deleteExpiredAfter: flags.expiredAfter } : {}),
    ...(flags.maxSessions !== undefined ? { maxSessions: flags.maxSessions } : {}),
  };
  const now = new Date();
  const line = (verb: string, t: PruneTarget) => `${verb} ${visible(t.id)} ${colors.cyan(visible(t.key))} ${colors.dim(`(${visible(t.status)}, last activity ${relativeTime(t.lastActivityAt, now)}; ${RULE[t.reason]})`)}`;
  const report = await withManager(cmd, (m) =>
    m.prune({
      policy,
      dryRun: flags.dryRun === true,
      ...(flags.backup !== undefined ? { backup: (envelope) => writeFileAtomic(flags.backup as string, `${JSON.stringify(envelope, null, 2)}\n`) } : {}),
      // One line per deletion as it happens, so an interrupted run still says what it removed.
      ...(flags.json ? {} : { onDeleted: (t: PruneTarget) => print(line("deleted", t)) }),
    }),
  );
  if (flags.json) {
    printJson({ ...report, count: report.deleted.length, ...(flags.backup !== undefined && !report.dryRun && report.deleted.length > 0 ? { backup: flags.backup } : {}) });
    return;
  }
  printSummary(report, flags, line);
}

function printSummary(r: PruneReport, flags: PruneFlags, line: (verb: string, t: PruneTarget) => string): void {
  const p = r.policy;
  // With only the one-off Responses rule on, a run that found nothing says retention is off as before.
  if (p.deleteArchivedAfter === null && p.deleteExpiredAfter === null && p.maxSessions === null && (p.oneOffTtl === null || r.deleted.length + r.skipped.length === 0)) {
    print("retention is off: set sessions.maintenance (deleteArchivedAfter, deleteExpiredAfter, maxSessions) or give --archived-after, --expired-after or --max-sessions");
    if (p.oneOffTtl !== null) print(colors.dim("no expired one-off Responses session to delete (gateway.responses.oneOffTtl)"));
    return;
  }
  if (r.dryRun) for (const t of r.deleted) print(line("would delete", t));
  for (const t of r.skipped) print(colors.yellow(`kept ${visible(t.id)} ${visible(t.key)}: ${visible(t.why)}`));
  const verb = r.dryRun ? "would delete" : "deleted";
  const backup = flags.backup !== undefined && !r.dryRun && r.deleted.length > 0 ? `; exported first to ${visible(flags.backup)}` : "";
  print(colors.dim(r.deleted.length === 0 ? `nothing to delete (${plural(r.total, "session")})` : `${verb} ${plural(r.deleted.length, "session")} of ${r.total}${backup}`));
  if (r.overMax > 0) print(colors.yellow(`${plural(r.overMax, "session")} over maxSessions remain: all live, and a live session is never deleted`));
}
