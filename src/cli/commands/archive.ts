import type { Command } from "commander";
import { OpenclawError } from "../../errors.js";
import { withManager } from "../_context.js";
import type { JsonFlag } from "../_program.js";
import { colors, paintStatus, print, printJson } from "../_render.js";

/** `openclaw sessions archive` and `unarchive`. */
export async function runArchive(refs: string[], flags: JsonFlag, cmd: Command, action: "archive" | "unarchive"): Promise<void> {
  await withManager(cmd, async (m) => {
    // Check every session first so a typo or a wrong state changes nothing.
    const ids = await m.resolveAll(refs);
    for (const id of ids) {
      const s = await m.get(id);
      if (action === "archive" && s.status === "archived") throw new OpenclawError("INVALID_ARGUMENT", `session ${id} is already archived; nothing was changed`);
      if (action === "unarchive" && s.status !== "archived") throw new OpenclawError("INVALID_ARGUMENT", `session ${id} is not archived (it is ${s.status}); nothing was changed`);
    }
    const done = [];
    for (const id of ids) {
      const s = action === "archive" ? await m.archive(id) : await m.unarchive(id);
      done.push({ id: s.id, key: s.key, status: s.status });
    }
    if (flags.json) {
      printJson({ sessions: done, count: done.length });
      return;
    }
    const verb = action === "archive" ? "archived" : "unarchived";
    for (const s of done) print(`${verb} ${s.id} ${colors.cyan(s.key)} ${colors.dim("→")} ${paintStatus(s.status)}`);
  });
}
