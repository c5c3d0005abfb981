import assert from "node:assert/strict";
import { readFile, readdir, stat, unlink, utimes, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import type { FileStore, FileStoreOptions } from "../../src/store/file/file-store.js";
import { openFileStore } from "../../src/store/file/file-store.js";
import { testId, testMessage, testSession } from "../helpers/store-sessions.js";
import { tempDir } from "../helpers/store-tmp.js";

// The file store's optional capabilities beyond what the conformance suite
// pins: answers from the index alone, locks that span processes, and reads
// that never hold up the event loop.

async function withStore(fn: (store: FileStore, dir: string) => Promise<void>, options: Partial<FileStoreOptions> = {}): Promise<void> {
  const { dir, cleanup } = await tempDir();
  try {
    const store = await openFileStore({ dir, warn: () => {}, ...options });
    try {
      await fn(store, dir);
    } finally {
      await store.close();
    }
  } finally {
    await cleanup();
  }
}

describe("file store capabilities", () => {
  it("revisionOf reads the stored revision cheaply and says null when absent", () =>
    withStore(async (store) => {
      const doc = await store.commit({ session: testSession(), expectedRevision: null });
      await store.commit({ session: doc, expectedRevision: 1 });
      assert.equal(await store.revisionOf(doc.id), 2);
      assert.equal(await store.revisionOf(testId()), null);
    }));

  it("a turn lease is not stored data: the size ignores it, delete removes its file, maintenance removes an orphan one", () =>
    withStore(async (store, dir) => {
      const doc = await store.commit({ session: testSession(), expectedRevision: null });
      const before = await store.sizeOnDisk();
      const lease = await store.turnLeases.acquire(doc.id, "gw-a", 60_000, new AbortController().signal);
      assert.equal(await store.sizeOnDisk(), before, "a held lease does not change the size");
      await store.turnLeases.release(lease);
      const sessions = join(dir, "sessions");
      assert.ok((await readdir(sessions)).includes(`${doc.id}.turn`));
      await store.delete(doc.id);
      assert.deepEqual(
        (await readdir(sessions)).filter((n) => n.startsWith(doc.id) && !n.endsWith(".lock")),
        [],
        "delete leaves nothing of the session but its lock, which goes when released",
      );

      const orphan = join(sessions, `${testId()}.turn`);
      await writeFile(orphan, "");
      const old = new Date(Date.now() - 120_000);
      await utimes(orphan, old, old);
      assert.equal((await store.maintain({ dryRun: true })).leftoversRemoved, 1);
      assert.equal((await store.maintain()).leftoversRemoved, 1);
      assert.ok(!(await readdir(sessions)).some((n) => n.endsWith(".turn")));
    }));

  it("a turn lease is rewritten in place: taking it and giving it back never changes its file's size, inode or mode", () =>
    withStore(async (store, dir) => {
      const doc = await store.commit({ session: testSession(), expectedRevision: null });
      const path = join(dir, "sessions", `${doc.id}.turn`);
      const seen = new Set<string>();
      for (let i = 0; i < 5; i++) {
        const lease = await store.turnLeases.acquire(doc.id, `gw-${i % 2}`, 60_000, new AbortController().signal);
        const held = await stat(path);
        assert.match((await readFile(path, "utf8")).trim(), new RegExp(`"holder":"gw-${i % 2}"`));
        await store.turnLeases.release(lease);
        const free = await stat(path);
        assert.equal((await readFile(path, "utf8")).trim(), "", "a released lease is blank");
        for (const st of [held, free]) seen.add(`${st.size} ${st.ino} ${(st.mode & 0o777).toString(8)}`);
      }
      assert.equal(seen.size, 1, [...seen].join(", "));
      assert.match([...seen][0] ?? "", / 600$/);
      // A lease left by an earlier version (written while no process held the lock), longer than the slot and
      // without padding, is still read and cut to size.
      await store.close();
      await writeFile(path, JSON.stringify({ holder: "old", token: "t".repeat(400), expiresAt: 1 }));
      const next = await openFileStore({ dir, warn: () => {} });
      try {
        const lease = await next.turnLeases.acquire(doc.id, "gw-new", 60_000, new AbortController().signal);
        await next.turnLeases.release(lease);
        assert.equal((await stat(path)).size, [...seen][0]?.split(" ").map(Number)[0]);
      } finally {
        await next.close();
      }
    }));

  it("a turn lease taken by another store instance is seen once the lock changes hands, and deleting the session ends a held lease", () =>
    withStore(async (store, dir) => {
      const doc = await store.commit({ session: testSession(), expectedRevision: null });
      const signal = new AbortController().signal;
      // This instance takes and gives back the lease, keeping the session's lock file (and the lease file) between.
      const first = await store.turnLeases.acquire(doc.id, "gw-a", 60_000, signal);
      await store.turnLeases.release(first);
      const other = await openFileStore({ dir, warn: () => {} });
      try {
        // The other instance waits for the lock (the first gives it back), reads the file and takes the lease.
        const taken = await other.turnLeases.acquire(doc.id, "gw-b", 60_000, signal);
        // The first instance must now read gw-b's lease, not the free one it last wrote: renewing gw-b's lease through it
        // finds its token stored, and its own acquire cannot succeed until gw-b gives the lease back.
        assert.equal(await store.turnLeases.renew(taken, 60_000), true, "the first instance did not see the lease the other took");
        await other.turnLeases.release(taken);
        const lease = await store.turnLeases.acquire(doc.id, "gw-a", 60_000, signal);
        assert.equal(lease.holder, "gw-a");
        assert.equal(await other.turnLeases.renew(taken, 60_000), false, "a lease given back cannot be renewed");
        // Deleting the session removes its lease file: the holder's next renewal fails, so its turn stops.
        assert.equal(await store.delete(doc.id), true);
        assert.equal(await store.turnLeases.renew(lease, 60_000), false);
        assert.ok(!(await readdir(join(dir, "sessions"))).some((n) => n.endsWith(".turn")) || (await readFile(join(dir, "sessions", `${doc.id}.turn`), "utf8")).trim() === "");
      } finally {
        await other.close();
      }
    }));

  it("stats and findByIdPrefix answer from the index without parsing documents", () =>
    withStore(async (store, dir) => {
      const a = await store.commit({ session: testSession({ status: "active", lastActivityAt: "2025-01-02T09:00:00.000Z" }), expectedRevision: null });
      const b = await store.commit({ session: testSession({ kind: "group" }), expectedRevision: null });
      await store.list();
      await writeFile(join(dir, "sessions", `${b.id}.json`), "{not json");
      const stats = await store.stats("2025-01-03T00:00:00.000Z");
      assert.equal(stats.total, 2);
      assert.equal(stats.byStatus.expired, 2);
      assert.deepEqual(stats.byKind, { dm: 1, group: 1, isolated: 0 });
      assert.deepEqual(
        (await store.findByIdPrefix(a.id.slice(0, 30), 10)).map((s) => s.id),
        [a.id],
      );
      assert.deepEqual(await readdir(join(dir, "sessions", "quarantine")), []);
      await assert.rejects(store.stats("yesterday"), { code: "INVALID_ARGUMENT" });
    }));

  it("findOrCreateLive creates one live session per key even when two instances race", () =>
    withStore(async (a, dir) => {
      const b = await openFileStore({ dir, warn: () => {} });
      const key = "dm:telegram:race";
      let calls = 0;
      const create = () => {
        calls++;
        return testSession({ key });
      };
      const results = await Promise.all([a, b, a, b].map((s) => s.findOrCreateLive(key, null, create)));
      assert.equal(calls, 1);
      assert.equal(new Set(results.map((r) => r.session.id)).size, 1);
      assert.deepEqual(results.map((r) => r.created).filter(Boolean), [true]);
      const live = results[0]?.session ?? assert.fail("no session");
      // Archived or expired sessions are not live: the next call creates a new one.
      await a.commit({ session: { ...live, status: "archived", archivedAt: "2025-01-03T00:00:00.000Z" }, expectedRevision: live.revision, reason: "archived" });
      const next = await b.findOrCreateLive(key, null, create);
      assert.equal(next.created, true);
      assert.notEqual(next.session.id, live.id);
      assert.equal(next.session.revision, 1);
      const expired = await a.findOrCreateLive(key, "2030-01-01T00:00:00.000Z", create);
      assert.equal(expired.created, true);
      assert.equal((await a.list({ key })).total, 3);
    }));

  it("routing by key follows other instances' changes and documents added by hand while nothing ran", async () => {
    const { dir, cleanup } = await tempDir();
    const other = await tempDir();
    try {
      const a = await openFileStore({ dir, warn: () => {} });
      const b = await openFileStore({ dir, warn: () => {} });
      const first = await a.findOrCreateLive("dm:telegram:one", null, () => testSession({ key: "dm:telegram:one" }));
      // b builds its key lookup, then sees a's next session through the journal.
      assert.equal((await b.findOrCreateLive("dm:telegram:one", null, () => assert.fail("must find a's"))).session.id, first.session.id);
      const second = await a.findOrCreateLive("dm:telegram:two", null, () => testSession({ key: "dm:telegram:two" }));
      assert.equal((await b.findOrCreateLive("dm:telegram:two", null, () => assert.fail("must find a's"))).session.id, second.session.id);
      assert.equal(await a.delete(second.session.id), true);
      const again = await b.findOrCreateLive("dm:telegram:two", null, () => testSession({ key: "dm:telegram:two" }));
      assert.equal(again.created, true);
      assert.deepEqual(
        (await b.list({ key: "dm:telegram:two" })).items.map((s) => s.id),
        [again.session.id],
      );
      await Promise.all([a.close(), b.close()]);

      // A document another store wrote, copied in by hand while nothing runs here.
      const elsewhere = await openFileStore({ dir: other.dir, warn: () => {} });
      const copied = await elsewhere.commit({ session: testSession({ key: "dm:telegram:three" }), expectedRevision: null });
      await elsewhere.close();
      const name = `${copied.id}.json`;
      await writeFile(join(dir, "sessions", name), await readFile(join(other.dir, "sessions", name)));
      const c = await openFileStore({ dir, warn: () => {} });
      try {
        const found = await c.findOrCreateLive("dm:telegram:three", null, () => assert.fail("must find the copied document"));
        assert.equal(found.session.id, copied.id);
        assert.equal((await c.list({ key: "dm:telegram:three" })).total, 1);
        // A document saved by a process that died before indexing it, appearing while this one runs:
        // found before anything is created, so the key still has one live session.
        const writer = await openFileStore({ dir: other.dir, warn: () => {} });
        const orphan = await writer.commit({ session: testSession({ key: "dm:telegram:four" }), expectedRevision: null });
        await writer.close();
        await writeFile(join(dir, "sessions", `${orphan.id}.json`), await readFile(join(other.dir, "sessions", `${orphan.id}.json`)));
        assert.equal((await c.findOrCreateLive("dm:telegram:four", null, () => assert.fail("must find the unindexed document"))).session.id, orphan.id);
      } finally {
        await c.close();
      }
    } finally {
      await other.cleanup();
      await cleanup();
    }
  });

  it("withLock gives up waiting with ABORTED when its signal fires, on another process's lock or in the queue", () =>
    withStore(
      async (store, dir) => {
        const id = testId();
        // A lock file naming this (live) process, as another process's lock would look to the store.
        await writeFile(join(dir, "sessions", `${id}.lock`), JSON.stringify({ pid: process.pid, hostname: hostname(), createdAt: new Date().toISOString() }));
        const started = Date.now();
        let ran = false;
        await assert.rejects(
          store.withLock(id, async () => (ran = true), AbortSignal.timeout(100)),
          { code: "ABORTED" },
        );
        assert.ok(Date.now() - started < 2_000, `took ${Date.now() - started} ms`);
        assert.equal(ran, false);
        await unlink(join(dir, "sessions", `${id}.lock`));

        let release!: () => void;
        const holding = store.withLock(id, () => new Promise<void>((resolve) => (release = resolve)));
        const controller = new AbortController();
        const waiting = store.withLock(id, async () => "never", controller.signal);
        controller.abort();
        await assert.rejects(waiting, { code: "ABORTED" });
        release();
        await holding;
        assert.equal(await store.withLock(id, async () => "after"), "after");
      },
      { lockTimeoutMs: 10_000 },
    ));

  it("after close every call rejects with CLOSED, and close can be called again", () =>
    withStore(async (store) => {
      const doc = await store.commit({ session: testSession(), expectedRevision: null });
      await store.close();
      const calls: [string, () => Promise<unknown>][] = [
        ["get", () => store.get(doc.id)],
        ["commit", () => store.commit({ session: doc, expectedRevision: 1 })],
        ["delete", () => store.delete(doc.id)],
        ["list", () => store.list()],
        ["readPruned", () => store.readPruned(doc.id)],
        ["withLock", () => store.withLock(doc.id, async () => 1)],
        ["maintain", () => store.maintain()],
        ["sizeOnDisk", () => store.sizeOnDisk()],
        ["stats", () => store.stats(null)],
        ["findByIdPrefix", () => store.findByIdPrefix("0", 1)],
        ["revisionOf", () => store.revisionOf(doc.id)],
        ["findOrCreateLive", () => store.findOrCreateLive(doc.key, null, () => testSession())],
      ];
      for (const [name, call] of calls) await assert.rejects(call(), { code: "CLOSED" }, name);
      assert.throws(() => store.watch(() => {}), { code: "CLOSED" });
      await store.close();
    }));
});

describe("file store reads", () => {
  /** How many event-loop turns happened while `fn` ran. */
  const turnsDuring = async (fn: () => Promise<unknown>): Promise<number> => {
    let turns = 0;
    let running = true;
    const spin = (): void => {
      if (!running) return;
      turns++;
      setImmediate(spin);
    };
    setImmediate(spin);
    await fn();
    running = false;
    return turns;
  };

  it("reading a large document or its pruned log lets the event loop run meanwhile", () =>
    withStore(async (store) => {
      const big = Array.from({ length: 200 }, (_, i) => testMessage(`${i} ${"x".repeat(20_000)}`));
      const doc = await store.commit({ session: testSession({ messages: big }), expectedRevision: null, pruned: { append: big } });
      // Warm up: the first call loads the schemas module, which would turn the loop anyway.
      await store.get(doc.id);
      await store.readPruned(doc.id);
      assert.ok((await turnsDuring(() => store.get(doc.id))) > 0, "get read synchronously");
      // revisionOf reads only the first 256 bytes, synchronously like the other bounded metadata calls.
      assert.equal(await store.revisionOf(doc.id), 1);
      assert.ok((await turnsDuring(() => store.readPruned(doc.id))) > 0, "readPruned read synchronously");
    }));
});
