import type { EmptyListTimes } from "./cli-start.js";
import { CLI, repeat, runNode } from "./_spawn.js";
import { median, range, sig, type Row } from "./_util.js";

const GOAL_SIZE = 100_000;
/** A listing slower than this is repeated only SLOW_RUNS times. */
const SLOW_MS = 5_000;
const SLOW_RUNS = 3;

/** The listings measured at every size: the default page, a short explicit page, and everything as JSON. */
const CASES: { label: string; args: string[]; goal: boolean }[] = [
  { label: "sessions list (default page)", args: [], goal: true },
  { label: "sessions list --limit 20", args: ["--limit", "20"], goal: false },
  { label: "sessions list --json --limit 1000000", args: ["--json", "--limit", "1000000"], goal: false },
];

/**
 * Scenario 2: listing a populated store of `size` sessions through the CLI.
 * The baseline is the same command on an empty store, so the ratio is what
 * the store's size costs.
 */
export async function listAtScale(stateDir: string, size: number, runs: number, empty: EmptyListTimes, populated: { ms: number; bytes: number }, timeoutMs: number): Promise<Row[]> {
  const rows: Row[] = [];
  for (const c of CASES) {
    const args = [CLI, "sessions", "list", ...c.args, "--state-dir", stateDir];
    const atGoalSize = size >= GOAL_SIZE;
    const row = (wallMs: number, extra: Row["extra"]): Row => ({
      scenario: "2 list at scale",
      case: `${size.toLocaleString("en-US")} sessions: ${c.label}`,
      figure: wallMs / 1000,
      unit: "s",
      baseline: empty.wallMs / 1000,
      baselineLabel: "same, empty store",
      ratio: wallMs / empty.wallMs,
      // The file store's goal: what the store's size adds to a page is all but nothing.
      goal: c.goal ? (atGoalSize ? "≤ 1.3× empty" : "(≤ 1.3× empty at 100k)") : "grows with the page",
      met: c.goal && atGoalSize ? wallMs <= 1.3 * empty.wallMs : null,
      extra: { ...extra, populateSeconds: sig(populated.ms / 1000), storeMiB: sig(populated.bytes / 2 ** 20) },
    });
    // The warm-up run also tells whether this case is slow enough to need fewer runs or a time limit.
    const warm = await runNode(args, { timeoutMs });
    if (warm.timedOut) {
      rows.push(row(timeoutMs, { runs: 0, timedOut: true, note: `stopped at the ${timeoutMs / 1000} s limit (BENCH_LIST_TIMEOUT_S); the figure is a lower bound` }));
      continue;
    }
    if (warm.code !== 0) throw new Error(`openclaw sessions list ${c.args.join(" ")} exited ${warm.code}: ${warm.stderr.trim()}`);
    const n = warm.wallMs > SLOW_MS ? Math.min(runs, SLOW_RUNS) : runs;
    const results = await repeat(args, n, { skipWarmUp: true });
    const spread = range(results.map((r) => r.wallMs));
    rows.push(
      row(median(results.map((r) => r.wallMs)), {
        runs: n,
        minMs: sig(spread.min),
        maxMs: sig(spread.max),
        peakRssMiB: sig(median(results.map((r) => r.maxRssKiB)) / 1024),
      }),
    );
  }
  return rows;
}
