import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { KeyedMutex } from "../../src/store/_mutex.js";

describe("KeyedMutex", () => {
  it("runs callers of one key one at a time, in arrival order, and different keys side by side", async () => {
    const m = new KeyedMutex();
    const log: string[] = [];
    const job = (key: string, name: string, ms: number) =>
      m.run(key, async () => {
        log.push(`${name} in`);
        await delay(ms);
        log.push(`${name} out`);
      });
    await Promise.all([job("a", "a1", 20), job("a", "a2", 1), job("b", "b1", 5)]);
    assert.deepEqual(log.filter((l) => l.startsWith("a")), ["a1 in", "a1 out", "a2 in", "a2 out"]);
    // b did not wait for a.
    assert.ok(log.indexOf("b1 out") < log.indexOf("a1 out"));
  });

  it("a re-entrant mutex knows its own holds in the caller's async context only", async () => {
    const m = new KeyedMutex({ reentrant: true });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const seen: boolean[] = [];
    const holder = m.run("k", async () => {
      seen.push(m.holds("k"), m.holds("other"));
      await gate;
      // Still inside after an await.
      seen.push(m.holds("k"));
      // A nested call runs directly instead of waiting for itself.
      return m.holds("k") ? "nested ran" : await m.run("k", async () => "queued");
    });
    await delay(5);
    // Another caller, while the lock is held: not the holder.
    seen.push(m.holds("k"));
    release();
    assert.equal(await holder, "nested ran");
    assert.deepEqual(seen, [true, false, false, true]);
    assert.equal(m.holds("k"), false);
  });

  it("re-entrant mutexes share one async context but never see each other's holds", async () => {
    const first = new KeyedMutex({ reentrant: true });
    const second = new KeyedMutex({ reentrant: true });
    const plain = new KeyedMutex();
    const inner = await first.run("k", () => second.run("j", () => plain.run("k", async () => [first.holds("k"), first.holds("j"), second.holds("j"), second.holds("k"), plain.holds("k")])));
    assert.deepEqual(inner, [true, false, true, false, false]);
  });

  it("a hold that ended does not count in a promise that escaped it", async () => {
    const m = new KeyedMutex({ reentrant: true });
    let escaped: Promise<boolean> | undefined;
    await m.run("k", async () => {
      escaped = delay(10).then(() => m.holds("k"));
    });
    assert.equal(await escaped, false);
  });

  it("an aborted wait gives up with ABORTED and the queue goes on", async () => {
    const m = new KeyedMutex();
    let release!: () => void;
    const first = m.run("k", () => new Promise<void>((resolve) => (release = resolve)));
    const controller = new AbortController();
    const waiting = m.run("k", async () => "never", controller.signal);
    const after = m.run("k", async () => "after");
    controller.abort(new Error("caller left"));
    await assert.rejects(waiting, { code: "ABORTED" });
    release();
    await first;
    assert.equal(await after, "after");
  });
});
