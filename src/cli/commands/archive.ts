import type { Command } from "commander";
import { withManager } from "../_context.js";
import type { JsonFlag } from "../_args.js";
import { colors, paintStatus, print, printJson, visible } from "../_render.js";

/** `openclaw sessions archive` and `unarchive`. */
export async function runArchive(refs: string[], flags: JsonFlag, cmd: Command, action: "archive" | "unarchive"): Promise<void> {
  await withManager(cmd, async (m) => {
    // All or none: the manager checks every session before changing any.
    const done = (await m.setArchived(refs, action)).map((s) => ({ id: s.id, key: s.key, status: s.status }));
    if (flags.json) {
      printJson({ sessions: done, count: done.length });
      return;
    }
    const verb = action === "archive" ? "archived" : "unarchived";
    for (const s of done) print(`${verb} ${visible(s.id)} ${colors.cyan(visible(s.key))} ${colors.dim("→")} ${paintStatus(s.status)}`);
  });
}
