import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { envInt, readStore, seededRandom, startWriter, tempDir, type StoreView } from "./_helpers.js";

/** 200 kills take about 95 s on two cores (each writer loads the tokenizer anew); set RELIABILITY_KILLS lower for a quick run. */
const KILLS = envInt("RELIABILITY_KILLS", 200);
const USERS = ["ann", "bob", "cyd"];
const TAG = "k";

// Folding every few messages puts the pruned-history log and the second save
// of a fold inside the window where kills land.
const CONFIG = { sessions: { maxHistoryLength: 6, lowWaterMark: 0.5 } };

/** Sequence numbers of one user's messages in stored order (folded history first). */
function sequence(view: StoreView, user: string): number[] {
  const prefix = `${TAG}:${user}:`;
  return view.sessions
    .filter((s) => s.key === `dm:rel:${user}`)
    .flatMap((s) => s.history)
    .filter((m) => m.content.startsWith(prefix))
    .map((m) => Number(m.content.slice(prefix.length)));
}

/** Checks what every kill must leave: valid files, one session per key, every ack present once and in order. */
function verify(view: StoreView, acked: Map<string, Set<number>>, round: number): void {
  assert.deepEqual(view.unparsable, [], `round ${round}: files that are not JSON`);
  assert.deepEqual(view.warnings, [], `round ${round}: the store had to work around damage`);
  for (const user of USERS) {
    const sessions = view.sessions.filter((s) => s.key === `dm:rel:${user}`);
    assert.ok(sessions.length <= 1, `round ${round}: ${sessions.length} sessions for one DM key`);
    const stored = sequence(view, user);
    // A single writer appends one user's messages one at a time, so the stored numbers are exactly 0..max.
    assert.deepEqual(
      stored,
      Array.from({ length: stored.length }, (_, i) => i),
      `round ${round}: ${user}'s history is not 0..n in order`,
    );
    for (const n of acked.get(user) ?? []) assert.ok(n < stored.length, `round ${round}: acknowledged message ${user}:${n} is missing`);
  }
}

describe("crash loop: a writer SIGKILLed at random moments", () => {
  it(`loses no acknowledged append, tears no file and duplicates nothing over ${KILLS} kills`, async (t) => {
    const { dir, cleanup } = await tempDir("crash");
    const rng = seededRandom();
    t.diagnostic(`kills ${KILLS}, seed ${rng.seed} (replay with RELIABILITY_SEED=${rng.seed})`);
    try {
      await writeFile(join(dir, "config.json"), JSON.stringify(CONFIG));
      const acked = new Map<string, Set<number>>(USERS.map((u) => [u, new Set<number>()]));
      const childWarnings: string[] = [];
      let beforeFirstAck = 0;
      for (let round = 0; round < KILLS; round++) {
        const writer = startWriter(dir, TAG, "gateway", undefined, USERS);
        if (rng.next() < 0.25) {
          // Some kills land while the writer opens the store, breaks the last one's locks or resumes.
          await delay(Math.floor(rng.next() * 250));
        } else {
          await writer.acks(1 + Math.floor(rng.next() * 6));
          await delay(Math.floor(rng.next() * 12));
        }
        if (writer.count() === 0) beforeFirstAck++;
        writer.child.kill("SIGKILL");
        const exit = await writer.exited;
        assert.equal(exit.signal, "SIGKILL", `round ${round}: the writer exited by itself (${String(exit.code)}): ${writer.stderr.join("")}`);
        for (const line of writer.stderr.join("").split("\n")) if (line !== "") childWarnings.push(line);
        for (const [user, ns] of writer.acked) for (const n of ns) acked.get(user)?.add(n);
        verify(await readStore(dir), acked, round);
      }
      t.diagnostic(`${[...acked.values()].reduce((n, s) => n + s.size, 0)} appends acknowledged; ${beforeFirstAck} kills before the first ack`);
      // Reports from the writers (quarantines, torn pruned-log lines) would mean a kill left damage behind.
      assert.deepEqual(childWarnings, []);

      // A clean run afterwards finds the store healthy and carries on where the killed ones stopped.
      const last = startWriter(dir, TAG, "gateway", 0.5, USERS);
      const exit = await last.exited;
      assert.equal(exit.code, 0, last.stderr.join(""));
      for (const [user, ns] of last.acked) for (const n of ns) acked.get(user)?.add(n);
      const view = await readStore(dir);
      verify(view, acked, KILLS);
      for (const user of USERS) assert.ok((acked.get(user)?.size ?? 0) > 0, `no append for ${user} was ever acknowledged`);
    } finally {
      if (process.env.RELIABILITY_KEEP === "1") t.diagnostic(`kept ${dir}`);
      else await cleanup();
    }
  });
});
