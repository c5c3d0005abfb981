import type { Command } from "commander";
import type { UsageGrouping, UsageReport } from "../../manager/usage.js";
import { withManager } from "../_context.js";
import { colors, formatInt, plural, print, printJson, table, visible } from "../_render.js";

/** Flags of `openclaw usage`. */
export interface UsageFlags {
  by: UsageGrouping;
  since?: number;
  limit?: number;
  json?: boolean;
}

/** Rows printed when --limit is not given. */
const DEFAULT_LIMIT = 50;

/** `openclaw usage`: tokens used, by channel, day or session. */
export async function runUsage(flags: UsageFlags, cmd: Command): Promise<void> {
  const report = await withManager(cmd, (m) => m.usage({ by: flags.by, ...(flags.since !== undefined ? { sinceMs: flags.since } : {}) }));
  if (flags.json) {
    printJson(report);
    return;
  }
  printHuman(report, flags.limit ?? DEFAULT_LIMIT);
}

function printHuman(r: UsageReport, limit: number): void {
  const period = r.since === null ? "all time" : `since ${r.since}`;
  if (r.rows.length === 0) {
    print(`no model call recorded (${period})`);
    return;
  }
  const first = r.by === "session" ? ["SESSION", "KEY"] : [r.by === "day" ? "DAY (UTC)" : "CHANNEL"];
  const shown = r.rows.slice(0, limit);
  const rows = shown.map((row) => [
    ...(r.by === "session" ? [visible(row.group), visible(row.key ?? "")] : [visible(row.group)]),
    formatInt(row.sessions),
    formatInt(row.turns),
    formatInt(row.input),
    formatInt(row.output),
    formatInt(row.total),
    row.estimatedTurns > 0 ? colors.yellow(formatInt(row.estimatedTurns)) : "0",
  ]);
  const t = r.totals;
  rows.push([...first.map((_, i) => (i === 0 ? "total" : "")), formatInt(t.sessions), formatInt(t.turns), formatInt(t.input), formatInt(t.output), formatInt(t.total), formatInt(t.estimatedTurns)]);
  const align = [...first.map(() => "left" as const), ...Array.from({ length: 6 }, () => "right" as const)];
  print(table([...first, "SESSIONS", "CALLS", "INPUT", "OUTPUT", "TOTAL", "ESTIMATED"], rows, align));
  const more = r.rows.length > shown.length ? `; ${r.rows.length - shown.length} more rows (--limit N shows more)` : "";
  const estimated = t.estimatedTurns > 0 ? `; ${plural(t.estimatedTurns, "call")} estimated (the upstream reported no usage)` : "";
  print(colors.dim(`tokens used, ${period}${estimated}${more}`));
}
