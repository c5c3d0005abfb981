import type { Command } from "commander";
import type { RescopeStep } from "../../manager/rescope.js";
import { withManager } from "../_context.js";
import { colors, plural, print, printJson, table, visible } from "../_render.js";

/** Flags of `sessions rescope`. */
export interface RescopeFlags {
  dryRun?: boolean;
  json?: boolean;
}

/** `openclaw sessions rescope`: moves live DM sessions to the keys `sessions.dmScope` and the identity links make now. */
export async function runRescope(flags: RescopeFlags, cmd: Command): Promise<void> {
  const report = await withManager(cmd, (m) => m.rescope({ dryRun: flags.dryRun === true }));
  if (flags.json) {
    printJson(report);
    return;
  }
  if (report.steps.length === 0) {
    print(`every live DM session is keyed as sessions.dmScope ${visible(JSON.stringify(report.scope))} makes; nothing to do`);
    return;
  }
  const rows = report.steps.map((s) => [visible(s.id), visible(s.key), s.to === null ? colors.dim("-") : colors.cyan(visible(s.to)), what(s, report.applied)]);
  print(table(["ID", "KEY", "NEW KEY", report.applied ? "DONE" : "WOULD"], rows));
  const moves = report.steps.filter((s) => s.action === "move").length;
  const archived = report.steps.length - moves;
  const summary = `${plural(moves, "session")} ${report.applied ? "moved" : "to move"}, ${plural(archived, "session")} ${report.applied ? "archived" : "to archive"} (scope ${JSON.stringify(report.scope)})`;
  print(report.applied ? summary : `${summary}; run without --dry-run to apply`);
}

function what(step: RescopeStep, applied: boolean): string {
  if (step.action === "move") return applied ? "moved" : "move";
  const verb = applied ? "archived" : "archive";
  if (step.to === null) return `${verb}: its key names no person the scope can place`;
  return `${verb}: merged, ${visible(step.into ?? "?")} keeps the key`;
}
