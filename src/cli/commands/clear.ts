import type { Command } from "commander";
import { withManager } from "../_context.js";
import type { JsonFlag } from "../_args.js";
import { confirm, declined } from "../_io.js";
import { plural, print, printJson, visible } from "../_render.js";

/** Flags of `sessions clear`. */
export interface ClearFlags extends JsonFlag {
  yes?: boolean;
}

/** `openclaw sessions clear`: on a terminal, clearing a live session asks first unless --yes. */
export async function runClear(ref: string, flags: ClearFlags, cmd: Command): Promise<void> {
  await withManager(cmd, async (m) => {
    if (flags.yes !== true) {
      const s = await m.get(ref);
      const live = s.status === "active" || s.status === "created";
      if (live && !(await confirm(`clear the history of active session ${visible(s.id)} (${visible(s.key)}, ${plural(s.messages.length, "message")})?`))) throw declined("nothing was cleared");
    }
    const report = await m.clear(ref);
    const session = await m.get(report.id);
    if (flags.json) {
      printJson({ ...report, key: session.key });
      return;
    }
    const removed: string[] = [];
    if (report.messages > 0) removed.push(plural(report.messages, "message"));
    if (report.summary) removed.push("the summary");
    if (report.pruned > 0) removed.push(`${plural(report.pruned, "message")} of pruned history`);
    const what = removed.length > 0 ? `removed ${removed.join(", ")}` : "the history was already empty";
    print(`cleared ${visible(report.id)} (${visible(session.key)}): ${what}; kept preferences, tools and system prompts`);
  });
}
