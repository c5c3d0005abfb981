import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CheckpointRounds, HOT_ROUNDS } from "../../src/store/file/_rounds.js";

/** Runs rounds until `id` is taken; how many rounds that took. */
function roundsUntil(rounds: CheckpointRounds, id: string): number {
  for (let n = 1; n <= 100; n++) if (rounds.take().includes(id)) return n;
  return Number.POSITIVE_INFINITY;
}

describe("checkpoint rounds", () => {
  it("a session with new records is taken by the next round", () => {
    const r = new CheckpointRounds();
    assert.equal(r.pending, false);
    r.add("a");
    r.add("a");
    assert.equal(r.pending, true);
    assert.deepEqual(r.take(), ["a"]);
    assert.equal(r.pending, false, "taken once, however many appends noted it");
  });

  it("a session written again in the round after its checkpoint waits several rounds; after a quiet round, one", () => {
    const r = new CheckpointRounds();
    r.add("busy");
    r.add("calm");
    assert.deepEqual(r.take().sort(), ["busy", "calm"]);
    // "busy" is written again right away; "calm" only after a round without writes.
    r.add("busy");
    assert.deepEqual(r.take(), [], "the first round after a checkpoint leaves a busy session waiting");
    r.add("calm");
    assert.deepEqual(r.take(), ["calm"], "a session quiet for a round is taken by the next");
    assert.equal(roundsUntil(r, "busy"), HOT_ROUNDS - 2, "a busy session waits HOT_ROUNDS rounds in all");
    // Written without pause, it keeps that pace: every HOT_ROUNDS rounds, never every round.
    for (let i = 0; i < 3; i++) {
      r.add("busy");
      assert.equal(roundsUntil(r, "busy"), HOT_ROUNDS);
    }
    // Quiet for a round, it is back to one.
    r.take();
    r.add("busy");
    assert.equal(roundsUntil(r, "busy"), 1);
  });

  it("keeps nothing of sessions it is done with", () => {
    const r = new CheckpointRounds();
    for (let i = 0; i < 1000; i++) r.add(`s${i}`);
    assert.equal(r.take().length, 1000);
    r.take();
    r.add("s1");
    assert.deepEqual(r.take(), ["s1"], "the round before last is forgotten");
    assert.equal(r.pending, false);
  });
});
