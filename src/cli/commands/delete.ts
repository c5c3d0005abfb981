import type { Command } from "commander";
import type { SessionStatus } from "../../session/types.js";
import { withManager } from "../_context.js";
import { colors, plural, print, printJson, progress, relativeTime } from "../_render.js";
import { UsageError } from "../_usage.js";

/** Flags of `sessions delete`. */
export interface DeleteFlags {
  status?: "expired" | "archived";
  olderThan?: number;
  dryRun?: boolean;
  json?: boolean;
}

interface Target {
  id: string;
  key: string;
  status: SessionStatus;
  lastActivityAt: string;
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
    let targets: Target[];
    if (refs.length > 0) {
      // Resolve every reference before deleting anything, so one typo deletes nothing.
      targets = [];
      for (const id of await m.resolveAll(refs)) {
        const s = await m.get(id);
        targets.push({ id: s.id, key: s.key, status: s.status, lastActivityAt: s.lastActivityAt });
      }
    } else {
      const cutoff = flags.olderThan === undefined ? Infinity : m.now().getTime() - flags.olderThan;
      const page = await m.list({ status: flags.status });
      targets = page.items
        .filter((s) => Date.parse(s.lastActivityAt) < cutoff)
        .map((s) => ({ id: s.id, key: s.key, status: s.status, lastActivityAt: s.lastActivityAt }));
    }
    if (!flags.dryRun) {
      const bar = progress("deleting");
      let done = 0;
      try {
        for (const t of targets) {
          await m.delete(t.id);
          bar.update(++done, targets.length);
        }
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
    for (const t of targets) print(`${verb} ${t.id} ${colors.cyan(t.key)} ${colors.dim(`(${t.status}, last activity ${relativeTime(t.lastActivityAt, now)})`)}`);
    print(colors.dim(`${verb} ${plural(targets.length, "session")}`));
  });
}
