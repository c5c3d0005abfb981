import type { Command } from "commander";
import { parseExport } from "../../session/export.js";
import { withManager } from "../_context.js";
import { readInput } from "../_io.js";
import { colors, plural, print, printJson, progress, visible } from "../_render.js";

/** Flags of `sessions import`. */
export interface ImportFlags {
  overwrite?: boolean;
  json?: boolean;
}

/** `openclaw sessions import`: validates the whole document before the store is opened for writing. */
export async function runImport(file: string, flags: ImportFlags, cmd: Command): Promise<void> {
  const { text, label } = await readInput(file);
  const envelope = parseExport(text, label);
  const report = await withManager(cmd, async (m) => {
    const bar = progress("importing");
    try {
      return await m.importSessions(envelope, { overwrite: flags.overwrite === true, onProgress: (done, total) => bar.update(done, total) });
    } finally {
      bar.finish();
    }
  });
  if (flags.json) {
    printJson({ ...report, count: report.imported.length + report.overwritten.length });
    return;
  }
  const keys = new Map(envelope.sessions.map((s) => [s.id, s.key]));
  for (const id of report.imported) print(`imported ${visible(id)} ${colors.cyan(visible(keys.get(id) ?? ""))}`);
  for (const id of report.overwritten) print(`overwrote ${visible(id)} ${colors.cyan(visible(keys.get(id) ?? ""))}`);
  const total = report.imported.length + report.overwritten.length;
  const note = report.overwritten.length > 0 ? ` (${report.overwritten.length} overwritten)` : "";
  print(colors.dim(`imported ${plural(total, "session")} from ${visible(label)}${note}`));
}
