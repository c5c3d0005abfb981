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
  peakRss: number;
}

/**
 * Scenario 6: a process (the built library, no TypeScript loader) that loads
 * every session of a `size`-session store through `SessionManager.get` and
 * holds them all. The baseline is the same process after opening the
 * manager and listing, before loading any session.
 */
export async function holdSessions(stateDir: string, size: number, storeBytes: number): Promise<Row[]> {
  const r = await runNode(["--expose-gc", HOLDER, stateDir], { captureStdout: true });
  if (r.code !== 0) throw new Error(`the holder process exited ${r.code}: ${r.stderr.trim()}`);
  const held = JSON.parse(r.stdout) as Held;
  if (held.sessions !== size) throw new Error(`the holder loaded ${held.sessions} sessions, expected ${size}`);
  const rss = held.rssAfter / MiB;
  const base = held.rssBefore / MiB;
  return [
    {
      scenario: "6 memory",
      case: `process holding ${size.toLocaleString("en-US")} sessions via manager.get`,
      figure: rss,
      unit: "MiB RSS",
      baseline: base,
      baselineLabel: "same process before loading",
      ratio: rss / base,
      goal: "≤ 150 MiB",
      met: rss <= 150,
      extra: {
        heapUsedMiB: sig(held.heapAfter / MiB),
        peakRssMiB: sig(held.peakRss / MiB),
        documentsOnDiskMiB: sig(storeBytes / MiB),
        bytesPerSessionInHeap: Math.round((held.heapAfter - held.heapBefore) / size),
      },
    },
  ];
}
