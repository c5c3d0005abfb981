import type { Command } from "commander";
import { withManager } from "../_context.js";
import { colors, formatBytes, plural, print, printJson, progress, visible } from "../_render.js";

/** Flags of `sessions compact`. */
export interface CompactFlags {
  dryRun?: boolean;
  json?: boolean;
  /** Fold one session now, even under the limits (see compact-now.ts). */
  now?: boolean;
  focus?: string;
  keep?: string;
}

/** `openclaw sessions compact`. */
export async function runCompact(refs: string[], flags: CompactFlags, cmd: Command): Promise<void> {
  if (flags.now || flags.focus !== undefined || flags.keep !== undefined) return (await import("./compact-now.js")).runCompactNow(refs, flags, cmd);
  const report = await withManager(cmd, async (m) => {
    // A well-formed id resolves without a lookup; check each exists so a typo is not a silent no-op.
    for (const ref of refs) await m.get(ref);
    const bar = progress(flags.dryRun ? "checking" : "compacting");
    try {
      return await m.compact({ refs, ...(flags.dryRun ? { dryRun: true } : {}), onProgress: (done, total) => bar.update(done, total) });
    } finally {
      bar.finish();
    }
  });
  if (flags.json) {
    printJson(report);
    return;
  }
  const would = report.dryRun ? "would " : "";
  for (const a of report.actions) {
    const what: string[] = [];
    // A session expired long enough to be archived is already expired to its reader: archiving is the news.
    if (a.expired && !a.archived) what.push(`${would}mark expired`);
    if (a.archived) what.push(`${would}archive`);
    if (a.folded > 0) what.push(`${would}fold ${plural(a.folded, "message")} into the summary`);
    if (a.error !== null) what.push(colors.red(`summarizer failed: ${visible(a.error)}`));
    print(`${visible(a.id)} ${colors.cyan(visible(a.key))}: ${what.join(", ")}`);
  }
  const counts = {
    expired: report.actions.filter((a) => a.expired).length,
    archived: report.actions.filter((a) => a.archived).length,
    folded: report.actions.reduce((n, a) => n + a.folded, 0),
  };
  const parts = [
    `${report.dryRun ? "checked" : "compacted"} ${plural(report.sessions, "session")}`,
    `${plural(report.touched, "session")} ${report.dryRun ? "would change" : "changed"} (${counts.expired} expired, ${counts.archived} archived, ${plural(counts.folded, "message")} folded)`,
    ...(report.bytesBefore !== null && report.bytesAfter !== null ? [`${formatBytes(report.bytesBefore)} → ${formatBytes(report.bytesAfter)}${report.dryRun ? " (predicted)" : ""}`] : []),
    `${plural(report.leftoversRemoved, "leftover")} ${report.dryRun ? "to remove" : "removed"}`,
  ];
  if (report.quarantined.length > 0) parts.push(`${plural(report.quarantined.length, "corrupt session file")} ${report.dryRun ? "to move" : "moved"} to sessions/quarantine/ (openclaw doctor tells more)`);
  if (report.indexRebuilt) parts.push(report.dryRun ? "index would be rebuilt" : "index rebuilt");
  print(parts.join("; "));
}
