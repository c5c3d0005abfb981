import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { TurnKeeper } from "../../src/manager/turn.js";
import { MemoryData, MemoryStore } from "../../src/store/memory/memory-store.js";
import type { TurnLease, TurnLeases } from "../../src/store/store.js";

const ID = "01930000-0000-7000-8000-000000000001";
const never = (): AbortSignal => new AbortController().signal;

/** The store's leases, counting what reaches the store. */
function counted(leases: TurnLeases): TurnLeases & { acquired: number; released: number } {
  const c = {
    acquired: 0,
    released: 0,
    async acquire(id: string, holder: string, ttlMs: number, signal: AbortSignal): Promise<TurnLease> {
      const lease = await leases.acquire(id, holder, ttlMs, signal);
      c.acquired++;
      return lease;
    },
    renew: (lease: TurnLease, ttlMs: number) => leases.renew(lease, ttlMs),
    async release(lease: TurnLease): Promise<void> {
      c.released++;
      await leases.release(lease);
    },
  };
  return c;
}

/** Polls `test` every few milliseconds until it holds; fails after `ms`. */
async function until(test: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!test()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setImmediate(r));
  }
}

describe("turn leases kept between turns", () => {
  it("back-to-back turns of one session ask the store for the lease once", async () => {
    const leases = counted(new MemoryStore().turnLeases);
    const keeper = new TurnKeeper(leases, { ttlMs: 30_000, idleMs: 60_000, maxKeepMs: 60_000 });
    const order: number[] = [];
    for (let i = 0; i < 20; i++) await keeper.run(ID, async () => void order.push(i), { holder: "a", signal: never() });
    assert.equal(leases.acquired, 1);
    assert.equal(order.length, 20);
    await keeper.close();
    assert.equal(leases.released, 1, "closing gives the kept lease back");
  });

  it("a kept lease is given back once idle, so another process's turn runs", async () => {
    const data = new MemoryData();
    const a = new TurnKeeper(new MemoryStore(data).turnLeases, { ttlMs: 30_000, idleMs: 20 });
    const b = new TurnKeeper(new MemoryStore(data).turnLeases, { ttlMs: 30_000, idleMs: 20 });
    await a.run(ID, async () => undefined, { holder: "a", signal: never() });
    assert.equal(a.keptCount, 1);
    // b waits for a's lease; a keeps it only while idle for less than 20 ms.
    let ran = false;
    await b.run(ID, async () => void (ran = true), { holder: "b", signal: never() });
    assert.ok(ran);
    assert.equal(a.keptCount, 0);
    await Promise.all([a.close(), b.close()]);
  });

  it("two processes' turns of one session never overlap, and both make progress", async () => {
    const data = new MemoryData();
    const keepers = ["a", "b"].map((name) => ({ name, keeper: new TurnKeeper(new MemoryStore(data).turnLeases, { ttlMs: 30_000, idleMs: 5, maxKeepMs: 20 }) }));
    let inside = 0;
    const done: Record<string, number> = { a: 0, b: 0 };
    await Promise.all(
      keepers.map(async ({ name, keeper }) => {
        for (let i = 0; i < 40; i++) {
          await keeper.run(
            ID,
            async () => {
              inside++;
              assert.equal(inside, 1, "two turns of one session ran at once");
              await new Promise((r) => setImmediate(r));
              inside--;
              done[name] = (done[name] ?? 0) + 1;
            },
            { holder: name, signal: never() },
          );
        }
      }),
    );
    assert.deepEqual(done, { a: 40, b: 40 });
    await Promise.all(keepers.map(({ keeper }) => keeper.close()));
  });

  it("a lease kept past maxKeepMs goes back to the store at the next turn boundary", async () => {
    const leases = counted(new MemoryStore().turnLeases);
    const keeper = new TurnKeeper(leases, { ttlMs: 30_000, idleMs: 60_000, maxKeepMs: 10 });
    await keeper.run(ID, async () => undefined, { holder: "a", signal: never() });
    // Counted from after the first turn: the lease was taken at some moment before that.
    const kept = Date.now();
    await until(() => Date.now() - kept > 10);
    await keeper.run(ID, async () => undefined, { holder: "a", signal: never() });
    assert.equal(leases.released, 1);
    assert.equal(leases.acquired, 2);
    await keeper.close();
  });

  it("turns after close are refused", async () => {
    const keeper = new TurnKeeper(new MemoryStore().turnLeases, { ttlMs: 30_000 });
    await keeper.close();
    await assert.rejects(
      keeper.run(ID, async () => undefined, { holder: "a", signal: never() }),
      (err: Error & { code?: string }) => err.code === "CLOSED",
    );
  });
});
