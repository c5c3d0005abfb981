import assert from "node:assert/strict";
import { describe, it, type TestContext } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { isOpenclawError } from "../../src/errors.js";
import type { SessionStore, TurnLease } from "../../src/store/store.js";
import { testId } from "../helpers/store-sessions.js";

/** A fresh store, its disposal, and a second instance on the same data where the backend can share (as in store.ts). */
type OpenStore = () => Promise<{ store: SessionStore; cleanup: () => Promise<void>; reopen?: () => Promise<SessionStore> }>;

const LONG = 60_000;
const never = (): AbortSignal => new AbortController().signal;

/** True when `p` rejects with ABORTED: the acquire waited and was given up, nothing taken. */
async function gaveUp(p: Promise<unknown>): Promise<void> {
  await assert.rejects(p, (err: unknown) => isOpenclawError(err, "ABORTED"));
}

/**
 * The turn lease every backend keeps: one holder per session across every
 * instance on the same data, released by expiry when not renewed.
 */
export function leaseConformance(open: OpenStore): void {
  /** Two instances on the same data (like two processes), or one twice where the backend cannot share. */
  const pair = async (t: TestContext, fn: (a: SessionStore, b: SessionStore) => Promise<void>): Promise<void> => {
    const first = await open();
    try {
      if (first.reopen === undefined) return void t.skip("this backend keeps no data another instance can open");
      const b = await first.reopen();
      try {
        await fn(first.store, b);
      } finally {
        await b.close();
      }
    } finally {
      await first.store.close();
      await first.cleanup();
    }
  };

  describe("turn leases", () => {
    it("a held lease keeps a second instance waiting until it is released, then that one takes it", (t) =>
      pair(t, async (a, b) => {
        const id = testId();
        const held = await a.turnLeases.acquire(id, "gw-a", LONG, never());
        await gaveUp(b.turnLeases.acquire(id, "gw-b", LONG, AbortSignal.timeout(150)));
        const waiting = b.turnLeases.acquire(id, "gw-b", LONG, never());
        await a.turnLeases.release(held);
        const next = await waiting;
        assert.equal(next.holder, "gw-b");
        assert.notEqual(next.token, held.token);
        assert.equal(await a.turnLeases.renew(held, LONG), false, "a released lease cannot be renewed");
        await b.turnLeases.release(next);
      }));

    it("turns racing across two instances never overlap, and every one runs", (t) =>
      pair(t, async (a, b) => {
        const id = testId();
        let inside = 0;
        let most = 0;
        let ran = 0;
        await Promise.all(
          Array.from({ length: 12 }, async (_, i) => {
            const s = i % 2 === 0 ? a : b;
            const lease = await s.turnLeases.acquire(id, i % 2 === 0 ? "gw-a" : "gw-b", LONG, AbortSignal.timeout(30_000));
            inside++;
            most = Math.max(most, inside);
            await delay(3);
            inside--;
            ran++;
            await s.turnLeases.release(lease);
          }),
        );
        assert.equal(most, 1);
        assert.equal(ran, 12);
      }));

    it("a lease not renewed expires and another instance takes it over; the old holder can neither renew nor release it", (t) =>
      pair(t, async (a, b) => {
        const id = testId();
        const started = Date.now();
        const dead = await a.turnLeases.acquire(id, "gw-a", 300, never());
        const taken = await b.turnLeases.acquire(id, "gw-b", LONG, AbortSignal.timeout(10_000));
        const waited = Date.now() - started;
        assert.ok(waited >= 250, `taken over only after the expiry (after ${waited} ms)`);
        assert.ok(waited < 5_000, `taken over soon after the expiry (after ${waited} ms)`);
        assert.equal(await a.turnLeases.renew(dead, LONG), false);
        await a.turnLeases.release(dead);
        await gaveUp(a.turnLeases.acquire(id, "gw-a", LONG, AbortSignal.timeout(150)));
        await b.turnLeases.release(taken);
      }));

    it("a renewed lease outlives its first expiry", (t) =>
      pair(t, async (a, b) => {
        const id = testId();
        const lease = await a.turnLeases.acquire(id, "gw-a", 300, never());
        const stop = new AbortController();
        const renewing = (async () => {
          while (!stop.signal.aborted) {
            assert.equal(await a.turnLeases.renew(lease, 300), true);
            await delay(60);
          }
        })();
        try {
          await gaveUp(b.turnLeases.acquire(id, "gw-b", LONG, AbortSignal.timeout(900)));
        } finally {
          stop.abort();
          await renewing;
        }
        await a.turnLeases.release(lease);
        await b.turnLeases.release(await b.turnLeases.acquire(id, "gw-b", LONG, AbortSignal.timeout(5_000)));
      }));

    it("within one instance the lease excludes too, and sessions do not block each other", async () => {
      const { store, cleanup } = await open();
      try {
        const [x, y] = [testId(), testId()];
        const held: TurnLease = await store.turnLeases.acquire(x, "gw", LONG, never());
        await gaveUp(store.turnLeases.acquire(x, "gw", LONG, AbortSignal.timeout(100)));
        const other = await store.turnLeases.acquire(y, "gw", LONG, AbortSignal.timeout(5_000));
        await store.turnLeases.release(other);
        await store.turnLeases.release(held);
        await store.turnLeases.release(held);
        await store.turnLeases.release(await store.turnLeases.acquire(x, "gw", LONG, AbortSignal.timeout(5_000)));
      } finally {
        await store.close();
        await cleanup();
      }
    });

    it("hostile session ids and nonsense durations are refused", async () => {
      const { store, cleanup } = await open();
      try {
        await assert.rejects(store.turnLeases.acquire("../x", "gw", LONG, never()), { code: "INVALID_ID" });
        await assert.rejects(store.turnLeases.acquire(testId(), "gw", 0, never()), { code: "INVALID_ARGUMENT" });
        await assert.rejects(store.turnLeases.acquire(testId(), "", LONG, never()), { code: "INVALID_ARGUMENT" });
      } finally {
        await store.close();
        await cleanup();
      }
    });
  });
}
