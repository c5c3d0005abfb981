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
    assert.deepEqual(
      log.filter((l) => l.startsWith("a")),
      ["a1 in", "a1 out", "a2 in", "a2 out"],
    );
    // b did not wait for a.
    assert.ok(log.indexOf("b1 out") < log.indexOf("a1 out"));
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
