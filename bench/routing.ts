import { SessionManager } from "../src/manager/manager.js";
import { median, sig, type Row } from "./_util.js";

/** Rounds of routing timed per store; each round routes every sampled key once. */
const ROUNDS = 5;
/** Keys sampled per store: the newest page's routable (dm and group) keys. */
const SAMPLE = 50;

/**
 * Routing an inbound message's key to its live session
 * (`SessionManager.sessionForKey`, what the gateway does on every request
 * that names a session key) in each populated store, in this process
 * against the store's files. The baseline is the same in the smallest
 * store, so the ratio is what the store's size costs a message's routing.
 * The keys are those of live sessions, so nothing is created.
 */
export async function routeAtScale(stores: readonly { size: number; dir: string }[]): Promise<Row[]> {
  const perSize: { size: number; ms: number }[] = [];
  for (const { size, dir } of [...stores].sort((a, b) => a.size - b.size)) {
    const warnings: string[] = [];
    const manager = await SessionManager.open({ stateDir: dir, warn: (m) => warnings.push(m) });
    try {
      const keys = (await manager.list({ limit: SAMPLE })).items.filter((s) => s.kind !== "isolated").map((s) => s.key);
      if (keys.length === 0) throw new Error(`no routable session in the ${size}-session store`);
      // Warm-up: the first lookup of a process checks the index against the directory.
      for (const key of keys) await manager.sessionForKey(key);
      const rounds: number[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        const start = performance.now();
        for (const key of keys) {
          const s = await manager.sessionForKey(key);
          if (s.key !== key) throw new Error(`routing ${key} returned a session of ${s.key}`);
        }
        rounds.push((performance.now() - start) / keys.length);
      }
      if (warnings.length > 0) throw new Error(`warnings while routing: ${warnings.join("; ")}`);
      perSize.push({ size, ms: median(rounds) });
    } finally {
      await manager.close();
    }
  }
  const base = perSize[0];
  if (base === undefined) return [];
  return perSize.slice(1).map(({ size, ms }) => ({
    scenario: "2 list at scale",
    case: `${size.toLocaleString("en-US")} sessions: route a message's key to its session`,
    figure: ms,
    unit: "ms",
    baseline: base.ms,
    baselineLabel: `same at ${base.size.toLocaleString("en-US")} sessions`,
    ratio: ms / base.ms,
    goal: "report",
    met: null,
    extra: { rounds: ROUNDS, keys: SAMPLE, smallMs: sig(base.ms) },
  }));
}
