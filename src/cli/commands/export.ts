import type { Command } from "commander";
import { withManager } from "../_context.js";
import { writeFileAtomic } from "../_io.js";
import { plural, print, visible } from "../_render.js";
import { UsageError } from "../_usage.js";

/** Flags of `sessions export`. */
export interface ExportFlags {
  all?: boolean;
  output?: string;
}

/** `openclaw sessions export`: stdout carries only the document, so `> backup.json` works. */
export async function runExport(refs: string[], flags: ExportFlags, cmd: Command): Promise<void> {
  if (refs.length === 0 && !flags.all) throw new UsageError("sessions export needs session references or --all");
  if (refs.length > 0 && flags.all) throw new UsageError("give either session references or --all, not both");
  const envelope = await withManager(cmd, async (m) => {
    return m.exportSessions(flags.all ? "all" : refs);
  });
  const text = `${JSON.stringify(envelope, null, 2)}\n`;
  if (flags.output === undefined) {
    process.stdout.write(text);
    return;
  }
  await writeFileAtomic(flags.output, text);
  print(`exported ${plural(envelope.sessions.length, "session")} to ${visible(flags.output)}`);
}
