import { fileURLToPath } from "node:url";
import { runNode } from "./_spawn.js";
import { sig, type Row } from "./_util.js";

const HOLDER = fileURLToPath(new URL("./_hold-sessions.mjs", import.meta.url));
const MiB = 2 ** 20;

interface Held {
  sessions: number;
  rssBefore: number;
  heapBefore: number;
  rssAfter: number;
  heapAfter: number;
  externalAfter: number;
  rssSettled: number;
  settleMs: number;
  youngSettled: boolean;
  peakRss: number;
}

async function hold(stateDir: string, size: number, bare: boolean): Promise<Held> {
  const r = await runNode(["--expose-gc", HOLDER, stateDir, ...(bare ? ["--bare"] : [])], { captureStdout: true });
  if (r.code !== 0) throw new Error(`the holder process exited ${r.code}: ${r.stderr.trim()}`);
  const held = JSON.parse(r.stdout) as Held;
  if (held.sessions !== size) throw new Error(`the holder loaded ${held.sessions} sessions, expected ${size}`);
  return held;
}

/**
 * Scenario 6: a process (the built library, no TypeScript loader) that loads
 * every session of a `size`-session store through `SessionManager.get` and
 * holds them all. The baseline is the same process after opening the
 * manager and listing, before loading any session. Reported beside it: the
 * same process once settled (idle until V8 gave back the young generation
 * it grew during the load, as a long-running process is between bursts),
 * and a bare process that only reads and `JSON.parse`s the same documents,
 * the floor for holding them as plain objects.
 */
export async function holdSessions(stateDir: string, size: number, storeBytes: number): Promise<Row[]> {
  const held = await hold(stateDir, size, false);
  const bare = await hold(stateDir, size, true);
  const rss = held.rssAfter / MiB;
  const base = held.rssBefore / MiB;
  const n = size.toLocaleString("en-US");
  const settleExtra = (h: Held) => ({ settleMs: h.settleMs, youngGenerationGivenBack: h.youngSettled });
  return [
    {
      scenario: "6 memory",
      case: `process holding ${n} sessions via manager.get`,
      figure: rss,
      unit: "MiB RSS",
      baseline: base,
      baselineLabel: "same process before loading",
      ratio: rss / base,
      goal: "report",
      met: null,
      extra: {
        heapUsedMiB: sig(held.heapAfter / MiB),
        peakRssMiB: sig(held.peakRss / MiB),
        documentsOnDiskMiB: sig(storeBytes / MiB),
        bytesPerSessionInHeap: Math.round((held.heapAfter - held.heapBefore) / size),
      },
    },
    {
      scenario: "6 memory",
      case: `the same, settled`,
      figure: held.rssSettled / MiB,
      unit: "MiB RSS",
      baseline: bare.rssSettled / MiB,
      baselineLabel: `bare process holding the same ${n} documents JSON.parse'd, settled`,
      ratio: held.rssSettled / bare.rssSettled,
      goal: "≤ 1.1× bare",
      met: held.rssSettled <= 1.1 * bare.rssSettled,
      extra: { ...settleExtra(held), bareSettleMs: bare.settleMs, bareRssBeforeMiB: sig(bare.rssBefore / MiB), bareRssAfterMiB: sig(bare.rssAfter / MiB), bareHeapUsedMiB: sig(bare.heapAfter / MiB) },
    },
  ];
}
