import type { Command } from "commander";
import { withManager } from "../_context.js";
import type { JsonFlag } from "../_args.js";
import { plural, print, printJson, visible } from "../_render.js";

/** `openclaw sessions clear`. */
export async function runClear(ref: string, flags: JsonFlag, cmd: Command): Promise<void> {
  await withManager(cmd, async (m) => {
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
