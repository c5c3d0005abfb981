import { join } from "node:path";
import { CLI, repeat, runNode, RSS_METHOD } from "./_spawn.js";
import { median, range, scratch, sig, type Row } from "./_util.js";

/** Medians of `sessions list` on an empty store, reused by the list scenario as its baseline. */
export interface EmptyListTimes {
  wallMs: number;
  rssMiB: number;
}

/**
 * Scenario 1: `openclaw sessions list` on an empty store against `node -e 0`,
 * wall time and peak RSS, medians of `runs` runs each.
 */
export async function cliStart(runs: number): Promise<{ rows: Row[]; empty: EmptyListTimes }> {
  const { dir, cleanup } = await scratch("cli");
  try {
    const stateDir = join(dir, "state");
    // The first run creates the empty store (directories, empty index); it is reported apart.
    const first = await runNode([CLI, "sessions", "list", "--state-dir", stateDir]);
    if (first.code !== 0) throw new Error(`openclaw sessions list failed: ${first.stderr}`);
    const cli = await repeat([CLI, "sessions", "list", "--state-dir", stateDir], runs);
    const bare = await repeat(["-e", "0"], runs);
    const wall = median(cli.map((r) => r.wallMs));
    const wallBase = median(bare.map((r) => r.wallMs));
    const rss = median(cli.map((r) => r.maxRssKiB)) / 1024;
    const rssBase = median(bare.map((r) => r.maxRssKiB)) / 1024;
    const spread = range(cli.map((r) => r.wallMs));
    const rows: Row[] = [
      {
        scenario: "1 CLI start",
        case: "sessions list, empty store: wall",
        figure: wall / 1000,
        unit: "s",
        baseline: wallBase / 1000,
        baselineLabel: "node -e 0",
        ratio: wall / wallBase,
        goal: "≤ 0.15 s",
        met: wall <= 150,
        extra: { runs, minMs: sig(spread.min), maxMs: sig(spread.max), firstRunOnNewDirMs: sig(first.wallMs) },
      },
      {
        scenario: "1 CLI start",
        case: "sessions list, empty store: peak RSS",
        figure: rss,
        unit: "MiB",
        baseline: rssBase,
        baselineLabel: "node -e 0",
        ratio: rss / rssBase,
        goal: "≤ 80 MiB",
        met: rss <= 80,
        extra: { runs, method: RSS_METHOD },
      },
    ];
    return { rows, empty: { wallMs: wall, rssMiB: rss } };
  } finally {
    await cleanup();
  }
}
