import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { CLI, repeat } from "./_spawn.js";
import { median, range, sig, type Row } from "./_util.js";

/** Interactive means answered before a person waits on it. */
const GOAL_MS = 1000;

function grepMs(dir: string, needle: string, runs: number): number {
  const times: number[] = [];
  for (let i = 0; i <= runs; i++) {
    const t = performance.now();
    // The list of matching files is thrown away: kept, a common word's list outgrew spawnSync's buffer.
    const r = spawnSync("grep", ["-rilF", needle, join(dir, "sessions")], { encoding: "utf8", stdio: ["ignore", "ignore", "pipe"] });
    if (r.error !== undefined) throw new Error(`grep could not run: ${r.error.message}`);
    if (r.status !== 0 && r.status !== 1) throw new Error(`grep exited ${r.status}: ${r.stderr}`);
    if (i > 0) times.push(performance.now() - t);
  }
  return median(times);
}

/**
 * Scenario 10: `sessions search` over a populated store, a rare identifier
 * and a common word, against `grep -ril` over the same session files (the
 * raw cost of reading them, measured in the same run).
 */
export async function searchAtScale(dir: string, size: number, runs: number): Promise<Row[]> {
  const rows: Row[] = [];
  for (const [label, needle, extra] of [
    ["a rare identifier", "INV-4242", []],
    ["a rare identifier, pruned history too", "INV-4242", ["--include-pruned"]],
    ["a common word (first 50 hits)", "refund", []],
  ] as const) {
    const results = await repeat([CLI, "sessions", "search", needle, ...extra, "--json", "--state-dir", dir], runs);
    const ms = median(results.map((r) => r.wallMs));
    const spread = range(results.map((r) => r.wallMs));
    const base = grepMs(dir, needle, runs);
    rows.push({
      scenario: "10 search",
      case: `${size.toLocaleString("en-US")} sessions: sessions search ${label}`,
      figure: ms / 1000,
      unit: "s",
      baseline: base / 1000,
      baselineLabel: "grep -ril over the session files",
      ratio: ms / base,
      goal: `≤ ${GOAL_MS / 1000} s (interactive)`,
      met: ms <= GOAL_MS,
      extra: { runs, minMs: sig(spread.min), maxMs: sig(spread.max) },
    });
  }
  return rows;
}
