import type { EmptyListTimes } from "./cli-start.js";
import { CLI, repeat } from "./_spawn.js";
import { median, range, sig, type Row } from "./_util.js";

const GOAL_SIZE = 100_000;

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
export async function listAtScale(stateDir: string, size: number, runs: number, empty: EmptyListTimes, populated: { ms: number; bytes: number }): Promise<Row[]> {
  const rows: Row[] = [];
  for (const c of CASES) {
    const results = await repeat([CLI, "sessions", "list", ...c.args, "--state-dir", stateDir], runs);
    const wall = median(results.map((r) => r.wallMs));
    const spread = range(results.map((r) => r.wallMs));
    const atGoalSize = size >= GOAL_SIZE;
    rows.push({
      scenario: "2 list at scale",
      case: `${size.toLocaleString("en-US")} sessions: ${c.label}`,
      figure: wall / 1000,
      unit: "s",
      baseline: empty.wallMs / 1000,
      baselineLabel: "same, empty store",
      ratio: wall / empty.wallMs,
      goal: c.goal ? (atGoalSize ? "≤ 0.5 s" : "(≤ 0.5 s at 100k)") : "grows with the page",
      met: c.goal && atGoalSize ? wall <= 500 : null,
      extra: {
        runs,
        minMs: sig(spread.min),
        maxMs: sig(spread.max),
        peakRssMiB: sig(median(results.map((r) => r.maxRssKiB)) / 1024),
        populateSeconds: sig(populated.ms / 1000),
        storeMiB: sig(populated.bytes / 2 ** 20),
      },
    });
  }
  return rows;
}
