import assert from "node:assert/strict";
import { appendFileSync } from "node:fs";
import { appendFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import type { FileStore, FileStoreOptions } from "../../src/store/file/file-store.js";
import { openFileStore } from "../../src/store/file/file-store.js";
import type { StoreChange } from "../../src/store/store.js";
import { startAppender } from "../helpers/store-children.js";
import { testId, testMessage, testSession } from "../helpers/store-sessions.js";
import { tempDir } from "../helpers/store-tmp.js";

const FAST = { watchIntervalMs: 10 } as const;

/** Two instances on one directory (like two processes); both closed afterwards. */
async function withPair(fn: (a: FileStore, b: FileStore, dir: string) => Promise<void>, options: Partial<FileStoreOptions> = {}): Promise<void> {
  const { dir, cleanup } = await tempDir();
  const open = () => openFileStore({ dir, warn: (m) => assert.fail(m), ...FAST, ...options });
  const a = await open();
  const b = await open();
  try {
    await fn(a, b, dir);
  } finally {
    await a.close();
    await b.close();
    await cleanup();
  }
}

interface Recorded {
  seen: StoreChange[];
  stop: () => void;
  until: (n: number, ms?: number) => Promise<StoreChange[]>;
}

/** Collects what a store's watcher delivers (from the moment watch() returns). */
function record(store: FileStore): Recorded {
  const seen: StoreChange[] = [];
  const stop = store.watch((c) => seen.push(c));
  const until = async (n: number, ms = 5_000): Promise<StoreChange[]> => {
    const deadline = Date.now() + ms;
    while (seen.length < n && Date.now() < deadline) await delay(5);
    return seen;
  };
  return { seen, stop, until };
}

/**
 * Commits a fresh session from `writer` and waits until each of `watched` hears of it, then drops it from what they saw.
 * Changes arrive in the order they were made, so one that has not arrived before this one never will; and once it has
 * arrived, the watcher has taken its baseline. Either way it stands in for waiting long enough.
 */
async function sentinel(writer: FileStore, ...watched: Recorded[]): Promise<void> {
  const counts = watched.map((w) => w.seen.length);
  const marker = await writer.commit({ session: testSession(), expectedRevision: null });
  for (const [i, w] of watched.entries()) {
    const seen = await w.until((counts[i] ?? 0) + 1);
    assert.equal(seen.at(-1)?.id, marker.id, `the marker change arrives, and last: ${JSON.stringify(seen)}`);
    seen.pop();
  }
}

describe("file store watch", () => {
  it("delivers another instance's changes with their reasons, and never the instance's own", () =>
    withPair(async (a, b) => {
      const watched = record(a);
      const mine = await a.commit({ session: testSession(), expectedRevision: null });
      const doc = await b.commit({ session: testSession(), expectedRevision: null });
      await a.commit({ session: { ...mine, messages: [testMessage("own")] }, expectedRevision: 1, reason: "appended" });
      const more = await b.commit({ session: { ...doc, messages: [testMessage("hi")] }, expectedRevision: 1, reason: "appended" });
      await b.commit({ session: { ...more, status: "archived", archivedAt: "2025-01-03T00:00:00.000Z" }, expectedRevision: 2, reason: "archived" });
      await b.list();
      await b.delete(doc.id);
      await a.delete(mine.id);
      await watched.until(4);
      await sentinel(b, watched);
      assert.deepEqual(watched.seen, [
        { id: doc.id, key: doc.key, revision: 1, reason: "created" },
        { id: doc.id, key: doc.key, revision: 2, reason: "appended" },
        { id: doc.id, key: doc.key, revision: 3, reason: "archived" },
        { id: doc.id, key: doc.key, revision: 0, reason: "deleted" },
      ]);
      watched.stop();
    }));

  it("after the journal is folded, changes are inferred from the summaries, still without the instance's own", () =>
    withPair(
      async (a, b) => {
        const watched = record(a);
        await sentinel(b, watched);
        for (let i = 0; i < 3; i++) await a.commit({ session: testSession(), expectedRevision: null });
        const doc = await b.commit({ session: testSession(), expectedRevision: null });
        await watched.until(1);
        const appended = await b.commit({ session: { ...doc, messages: [testMessage("x")] }, expectedRevision: 1 });
        await watched.until(2);
        await b.commit({ session: { ...appended, status: "archived", archivedAt: "2025-01-03T00:00:00.000Z" }, expectedRevision: 2 });
        await watched.until(3);
        await b.commit({ session: { ...appended, status: "archived", archivedAt: "2025-01-03T00:00:00.000Z", channel: "elsewhere" }, expectedRevision: 3 });
        await watched.until(4);
        await b.delete(doc.id);
        await watched.until(5);
        await sentinel(b, watched);
        assert.deepEqual(
          watched.seen.map((c) => [c.id, c.revision, c.reason]),
          [
            [doc.id, 1, "created"],
            [doc.id, 2, "appended"],
            [doc.id, 3, "archived"],
            [doc.id, 4, "edited"],
            [doc.id, 0, "deleted"],
          ],
        );
      },
      // Every journal line is folded into the snapshot at once, so no reason survives.
      { journalFoldBytes: 1 },
    ));

  it("delivers a change committed right after watch() returns, before the watcher has read the index", () =>
    withPair(async (a, b, dir) => {
      const doc = await b.commit({ session: testSession(), expectedRevision: null });
      const summary = (await b.list()).items.find((s) => s.id === doc.id) ?? assert.fail("not listed");
      const watched = record(a);
      // Written synchronously, as another process's commit can land: before the watcher's first look reads the index.
      appendFileSync(join(dir, "sessions", "index.journal"), `${JSON.stringify({ op: "put", s: { ...summary, revision: 2, messageCount: 1 }, r: "appended", w: "another-writer" })}\n`);
      assert.deepEqual(await watched.until(1), [{ id: doc.id, key: doc.key, revision: 2, reason: "appended" }]);
      // And once: the next change follows it.
      await sentinel(b, watched);
      assert.equal(watched.seen.length, 1);
    }));

  it("lines without a reason or writer (older versions, repairs) are delivered with an inferred reason", () =>
    withPair(async (a, b, dir) => {
      const doc = await b.commit({ session: testSession(), expectedRevision: null });
      const watched = record(a);
      await sentinel(b, watched);
      const summary = (await b.list()).items.find((s) => s.id === doc.id) ?? assert.fail("not listed");
      await appendFile(join(dir, "sessions", "index.journal"), `${JSON.stringify({ op: "put", s: { ...summary, revision: 2, messageCount: 1 } })}\n`);
      await appendFile(join(dir, "sessions", "index.journal"), `${JSON.stringify({ op: "del", id: doc.id })}\n`);
      assert.deepEqual(await watched.until(2), [
        { id: doc.id, key: doc.key, revision: 2, reason: "appended" },
        { id: doc.id, key: doc.key, revision: 0, reason: "deleted" },
      ]);
    }));

  it("stops delivering once unsubscribed or closed, and several listeners each hear every change", () =>
    withPair(async (a, b, dir) => {
      const first = record(a);
      const second = record(a);
      await sentinel(b, first, second);
      const doc = await b.commit({ session: testSession(), expectedRevision: null });
      await first.until(1);
      await second.until(1);
      first.stop();
      await b.commit({ session: doc, expectedRevision: 1 });
      await second.until(2);
      await sentinel(b, second);
      assert.equal(first.seen.length, 1);
      assert.equal(second.seen.length, 2);
      await a.close();
      // A third instance hears the next change: the closed one, polling as often, had the same chance and stays silent.
      const c = await openFileStore({ dir, warn: (m) => assert.fail(m), ...FAST });
      try {
        const third = record(c);
        await sentinel(b, third);
        await b.commit({ session: doc, expectedRevision: 2 });
        assert.equal((await third.until(1)).length, 1);
        await sentinel(b, third);
      } finally {
        await c.close();
      }
      assert.equal(second.seen.length, 2);
    }));

  it("delivers the commits of a writer in another process, reasons included", async () => {
    const { dir, cleanup } = await tempDir();
    const store = await openFileStore({ dir, warn: (m) => assert.fail(m), ...FAST });
    try {
      const watched = record(store);
      const other = await openFileStore({ dir, warn: (m) => assert.fail(m), ...FAST });
      await sentinel(other, watched).finally(() => other.close());
      const id = testId();
      const child = startAppender(dir, id, "p", 3);
      assert.equal(await child.exited, 0, child.stderr.join(""));
      assert.deepEqual(
        (await watched.until(3)).map((c) => [c.id, c.revision, c.reason]),
        [
          [id, 1, "created"],
          [id, 2, "appended"],
          [id, 3, "appended"],
        ],
      );
      assert.equal(watched.seen[0]?.key, `isolated:appender:${id}`);
    } finally {
      await store.close();
      await cleanup();
    }
  });
});
