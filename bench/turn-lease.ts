import { join } from "node:path";
import { SessionManager } from "../src/manager/manager.js";
import type { SessionStore } from "../src/store/store.js";
import { chatText, Rng } from "./_populate.js";
import { median, scratch, sig, type Row } from "./_util.js";

/** Sizes of the turn-lease scenario. */
export interface TurnLeaseSizes {
  /** Sessions the turns go to, round robin (so a session's next turn comes after every other session's). */
  sessions: number;
  /** Turns running at once. */
  inFlight: number;
  /** Turns per measured run. */
  turns: number;
  /** Runs of each variant, alternated; the figures are their medians. */
  rounds: number;
}

/**
 * Turns per second: each turn records a user message and a reply, with or
 * without holding the session's turn lease. Turn `i` goes to session
 * `i % ids.length`; `inFlight` turns run at once.
 */
async function turnRate(manager: SessionManager, ids: readonly string[], sizes: TurnLeaseSizes, leased: boolean, text: () => string): Promise<number> {
  const inputs = Array.from({ length: sizes.turns }, () => [text(), text()] as const);
  let next = 0;
  const turn = async (i: number): Promise<void> => {
    const id = ids[i % ids.length] as string;
    const [question, answer] = inputs[i] as readonly [string, string];
    const body = async () => {
      await manager.record({ ref: id }, { role: "user", content: question });
      await manager.record({ ref: id }, { role: "assistant", content: answer });
    };
    if (leased) await manager.withTurn(id, body, { holder: "bench", signal: new AbortController().signal });
    else await body();
  };
  const start = performance.now();
  await Promise.all(
    Array.from({ length: sizes.inFlight }, async () => {
      for (let i = next++; i < sizes.turns; i = next++) await turn(i);
    }),
  );
  return sizes.turns / ((performance.now() - start) / 1000);
}

/**
 * Scenario 9: what the cross-process turn lease costs. A gateway turn holds
 * its session's lease in the store from recording the user message to
 * recording the reply; here the same two durable appends run with and
 * without the lease, alternated in one run, on one backend. Without an
 * upstream call or HTTP in the turn this is the lease's largest possible
 * share of a turn: a gateway turn pays the same lease over more work.
 */
export async function turnLeaseCost(sizes: TurnLeaseSizes, backend: { name: string; store?: () => Promise<SessionStore> }): Promise<Row[]> {
  const { dir, cleanup } = await scratch("lease");
  const store = backend.store === undefined ? undefined : await backend.store();
  const manager = await SessionManager.open({ ...(store === undefined ? { stateDir: join(dir, "state") } : { store }), config: { sessions: { maxHistoryLength: 10_000 } }, warn: () => {} });
  const rng = new Rng(9);
  const text = () => chatText(rng, rng.int(6, 60));
  try {
    const rows: Row[] = [];
    const cases = [
      { label: `${sizes.sessions} sessions round robin, ${sizes.inFlight} in flight`, count: sizes.sessions, inFlight: sizes.inFlight },
      { label: "1 session, turns back to back", count: 1, inFlight: 1 },
    ];
    for (const c of cases) {
      const ids: string[] = [];
      for (let s = 0; s < c.count; s++) ids.push((await manager.create({ key: `dm:bench:lease-${c.count}-${s}` })).id);
      const own = { ...sizes, inFlight: c.inFlight };
      // Warm-up of both paths (the tokenizer, the pool, the routing cache).
      await turnRate(manager, ids, { ...own, turns: Math.min(own.turns, 2 * c.count + 20) }, true, text);
      await turnRate(manager, ids, { ...own, turns: Math.min(own.turns, 2 * c.count + 20) }, false, text);
      const bare: number[] = [];
      const leased: number[] = [];
      for (let r = 0; r < sizes.rounds; r++) {
        // Alternating which goes first keeps a drift in machine load from favouring one.
        if (r % 2 === 0) {
          bare.push(await turnRate(manager, ids, own, false, text));
          leased.push(await turnRate(manager, ids, own, true, text));
        } else {
          leased.push(await turnRate(manager, ids, own, true, text));
          bare.push(await turnRate(manager, ids, own, false, text));
        }
      }
      const withLease = median(leased);
      const without = median(bare);
      rows.push({
        scenario: "9 turn lease",
        case: `${c.label} (${backend.name}): turns/s holding the lease`,
        figure: withLease,
        unit: "turns/s",
        baseline: without,
        baselineLabel: "same turns without the lease",
        ratio: withLease / without,
        // The goal is set on gateway turns (the gateway rows); this is the lease's largest possible share.
        goal: "report",
        met: null,
        extra: { rounds: sizes.rounds, turnsPerRound: sizes.turns, leasedMin: sig(Math.min(...leased)), leasedMax: sig(Math.max(...leased)), bareMin: sig(Math.min(...bare)), bareMax: sig(Math.max(...bare)) },
      });
    }
    return rows;
  } finally {
    await manager.close();
    await cleanup();
  }
}
