import type { Command } from "commander";
import { parseExport } from "../../session/export.js";
import { clashPolicy } from "../../session/live-keys.js";
import { withManager } from "../_context.js";
import { readInput } from "../_io.js";
import { colors, plural, print, printJson, progress, visible } from "../_render.js";

/** Flags of `sessions import`. */
export interface ImportFlags {
  overwrite?: boolean;
  skipExisting?: boolean;
  asArchived?: boolean;
  replaceLive?: boolean;
  json?: boolean;
}

/** `openclaw sessions import`: validates the whole document before the store is opened for writing. */
export async function runImport(file: string, refs: readonly string[], flags: ImportFlags, cmd: Command): Promise<void> {
  const clashes = clashPolicy(flags);
  const { text, label } = await readInput(file);
  const envelope = parseExport(text, label);
  const report = await withManager(cmd, async (m) => {
    const bar = progress("importing");
    try {
      return await m.importSessions(envelope, {
        overwrite: flags.overwrite === true,
        skipExisting: flags.skipExisting === true,
        clashes,
        refs,
        source: label,
        onProgress: (done, total) => bar.update(done, total),
      });
    } finally {
      bar.finish();
    }
  });
  const total = report.imported.length + report.overwritten.length;
  if (flags.json) {
    printJson({ ...report, count: total });
    return;
  }
  const keys = new Map(envelope.sessions.map((s) => [s.id, s.key]));
  const liveFor = new Map(report.importedArchived.map((a) => [a.id, a.live]));
  const line = (verb: string, id: string) => {
    const live = liveFor.get(id);
    const note = live === undefined ? "" : ` (archived: ${visible(live)} is live for the key)`;
    print(`${verb} ${visible(id)} ${colors.cyan(visible(keys.get(id) ?? ""))}${note}`);
  };
  for (const a of report.archivedLive) print(`archived ${visible(a.id)} ${colors.cyan(visible(a.key))} (${visible(a.replacedBy)} is live for the key now)`);
  for (const id of report.imported) line("imported", id);
  for (const id of report.overwritten) line("overwrote", id);
  const notes = [
    ...(report.overwritten.length > 0 ? [`${report.overwritten.length} overwritten`] : []),
    ...(report.importedArchived.length > 0 ? [`${report.importedArchived.length} imported archived, their key having another live session`] : []),
    ...(report.archivedLive.length > 0 ? [`${plural(report.archivedLive.length, "live session")} archived to make room`] : []),
    ...(report.skipped.length > 0 ? [`${report.skipped.length} already there, skipped`] : []),
  ];
  print(colors.dim(`imported ${plural(total, "session")} from ${visible(label)}${notes.length > 0 ? ` (${notes.join("; ")})` : ""}`));
}
