import type { SessionUsage, UsageTotals } from "../session/types.js";
import { formatInt, plural } from "./_render.js";

/** The list column: total tokens used, `~` in front when some calls were estimated, `-` before the first call. */
export function usedCell(u: UsageTotals | undefined): string {
  if (u === undefined || u.turns === 0) return "-";
  return `${u.estimatedTurns > 0 ? "~" : ""}${formatInt(u.total)}`;
}

/** One line for `show`: input, output and total over the calls, how many were estimated, and the last context size. */
export function usageLine(u: SessionUsage | undefined): string {
  if (u === undefined || u.turns === 0) return "no model call recorded yet";
  const estimated = u.estimatedTurns > 0 ? ` (${u.estimatedTurns} estimated: the upstream reported no usage)` : "";
  return `${formatInt(u.input)} in · ${formatInt(u.output)} out · ${formatInt(u.total)} total over ${plural(u.turns, "model call")}${estimated}; last context ${formatInt(u.lastContextTokens)} tokens`;
}
