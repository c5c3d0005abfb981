import type { Command } from "commander";
import { withManager } from "../_context.js";
import { colors, plural, print, printJson, progress, relativeTime, visible } from "../_render.js";
import { UsageError } from "../_usage.js";
import { confirm, declined } from "../_io.js";

/** Flags of `sessions delete`. */
export interface DeleteFlags {
  status?: "expired" | "archived";
  olderThan?: number;
  dryRun?: boolean;
  yes?: boolean;
  json?: boolean;
}

/** `openclaw sessions delete`: named sessions, or in bulk by status and age. */
export async function runDelete(refs: string[], flags: DeleteFlags, cmd: Command): Promise<void> {
  if (flags.olderThan !== undefined && flags.status === undefined) {
    throw new UsageError("--older-than only applies with --status");
  }
  if (refs.length === 0 && flags.status === undefined) {
    throw new UsageError("sessions delete needs session references or --status expired|archived");
  }
  if (refs.length > 0 && flags.status !== undefined) {
    throw new UsageError("give either session references or --status, not both");
  }
  await withManager(cmd, async (m) => {
    // Every reference is checked before anything is deleted, so one typo deletes nothing.
    let targets = refs.length > 0 ? await m.planDelete({ refs }) : await m.planDelete({ status: flags.status as "expired" | "archived", ...(flags.olderThan !== undefined ? { olderThanMs: flags.olderThan } : {}) });
    const live = targets.filter((t) => t.status === "active" || t.status === "created");
    if (!flags.dryRun && flags.yes !== true && live.length > 0) {
      const names =
        live
          .slice(0, 3)
          .map((t) => visible(t.key))
          .join(", ") + (live.length > 3 ? ", ..." : "");
      if (!(await confirm(`delete ${plural(live.length, "active session")} (${names}) and all their history?`))) throw declined("nothing was deleted");
    }
    if (!flags.dryRun) {
      const bar = progress("deleting");
      try {
        targets = await m.deleteSessions(targets, { onProgress: (done, total) => bar.update(done, total) });
      } finally {
        bar.finish();
      }
    }
    if (flags.json) {
      printJson({ dryRun: flags.dryRun === true, deleted: targets, count: targets.length });
      return;
    }
    const now = m.now();
    const verb = flags.dryRun ? "would delete" : "deleted";
    if (targets.length === 0) {
      print(`nothing to delete${flags.status !== undefined ? ` (no ${flags.status} session matches)` : ""}`);
      return;
    }
    for (const t of targets) print(`${verb} ${visible(t.id)} ${colors.cyan(visible(t.key))} ${colors.dim(`(${visible(t.status)}, last activity ${relativeTime(t.lastActivityAt, now)})`)}`);
    print(colors.dim(`${verb} ${plural(targets.length, "session")}`));
  });
}
