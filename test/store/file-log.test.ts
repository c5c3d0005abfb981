import assert from "node:assert/strict";
import { copyFile, readdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import type { Session } from "../../src/session/types.js";
import { FileStore, openFileStore } from "../../src/store/file/file-store.js";
import { decodeFrames, recordOf } from "../../src/store/file/_log-format.js";
import { LogWriter } from "../../src/store/file/_log.js";
import { appendTo, headerOf, testMessage, testSession } from "../helpers/store-sessions.js";
import { toSummary } from "../../src/session/lifecycle.js";
import { readOnDisk } from "../helpers/store-files.js";
import { tempDir } from "../helpers/store-tmp.js";

/** A pid that no process has (beyond Linux's pid_max), so its segments count as left by a dead writer. */
const DEAD_PID = 4_999_999;

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const { dir, cleanup } = await tempDir();
  try {
    await fn(dir);
  } finally {
    await cleanup();
  }
}

/** Appends `texts` one record each; returns the session as last saved. */
async function appendAll(store: FileStore, doc: Session, texts: string[]): Promise<Session> {
  let cur = doc;
  for (const t of texts) {
    const m = testMessage(t);
    cur = await appendTo(store, cur, [m], { status: "active" });
  }
  return cur;
}

/** Where a segment's records end: the first zero frame header, or the end of the file. */
function recordsEnd(bytes: Buffer): number {
  let at = 0;
  while (at + 8 <= bytes.length && bytes.readUInt32LE(at) !== 0) at += 8 + bytes.readUInt32LE(at);
  return at;
}

const logDir = (dir: string) => join(dir, "sessions", "log");
const segments = async (dir: string) => (await readdir(logDir(dir))).filter((n) => n.endsWith(".log"));

/** Leaves records in the log as a killed writer would: the segment renamed to a dead pid, the store never closed. */
async function crashAfter(dir: string, texts: string[]): Promise<Session> {
  const store = await openFileStore({ dir, warn: (m) => assert.fail(m), checkpointMs: 600_000 });
  const doc = await store.commit({ session: testSession(), expectedRevision: null });
  await appendAll(store, doc, texts);
  const [segment] = await segments(dir);
  assert.ok(segment !== undefined, "the appends went to a log segment");
  await rename(join(logDir(dir), segment), join(logDir(dir), segment.replace(/^\d+-/, `${DEAD_PID}-`)));
  return doc;
}

describe("file store append log", () => {
  it("an append is visible to another instance at once and in the JSON document after a checkpoint", () =>
    withDir(async (dir) => {
      const a = await openFileStore({ dir, warn: (m) => assert.fail(m), checkpointMs: 600_000 });
      const b = await openFileStore({ dir, warn: (m) => assert.fail(m) });
      const doc = await a.commit({ session: testSession(), expectedRevision: null });
      await appendAll(a, doc, ["one", "two"]);
      assert.deepEqual(
        (await b.get(doc.id))?.session.messages.map((m) => m.content),
        ["one", "two"],
      );
      assert.equal(await b.revisionOf(doc.id), 3);
      assert.equal((await b.list()).items[0]?.messageCount, 2);
      const onDisk = (await readOnDisk(dir, doc.id)).session;
      assert.equal(onDisk.messages.length, 0, "not checkpointed yet");
      await a.checkpoint();
      const after = (await readOnDisk(dir, doc.id)).session;
      assert.deepEqual([after.revision, after.messages.map((m) => m.content)], [3, ["one", "two"]]);
      assert.deepEqual(await segments(dir), [], "a fully checkpointed segment is removed");
      await a.close();
      await b.close();
    }));

  it("a stale append is refused when another instance's record moved the revision", () =>
    withDir(async (dir) => {
      const a = await openFileStore({ dir, warn: (m) => assert.fail(m) });
      const b = await openFileStore({ dir, warn: (m) => assert.fail(m) });
      const doc = await a.commit({ session: testSession(), expectedRevision: null });
      await appendAll(a, doc, ["from a"]);
      await assert.rejects(appendAll(b, doc, ["stale"]), (e: Error & { code?: string }) => e.code === "CONFLICT");
      await a.close();
      await b.close();
    }));

  it("an instance that kept the lock between its appends sees another instance's write once it had to give the lock up", () =>
    withDir(async (dir) => {
      const a = await openFileStore({ dir, warn: (m) => assert.fail(m), checkpointMs: 600_000 });
      const b = await openFileStore({ dir, warn: (m) => assert.fail(m), checkpointMs: 600_000 });
      const doc = await a.commit({ session: testSession(), expectedRevision: null });
      // Back to back: a keeps the session's lock file between these, and trusts what it wrote.
      const fromA = await appendAll(a, doc, ["a1", "a2", "a3"]);
      // b waits for the lock (a gives it back) and appends after a's records.
      const fromB = await appendAll(b, fromA, ["b1"]);
      // a's own last state is stale now: the check must read the store again, not a's memory of it.
      await assert.rejects(appendAll(a, fromA, ["stale"]), (e: Error & { code?: string }) => e.code === "CONFLICT");
      // A whole-document commit by b (a clear, say) moves the revision too.
      const cleared = await b.commit({ session: { ...fromB, messages: [] }, expectedRevision: fromB.revision });
      await assert.rejects(appendAll(a, fromB, ["stale again"]), (e: Error & { code?: string }) => e.code === "CONFLICT");
      await appendAll(a, cleared, ["a4", "a5"]);
      await a.close();
      await b.close();
      const reopened = await openFileStore({ dir, warn: (m) => assert.fail(m) });
      const stored = await reopened.get(doc.id);
      assert.deepEqual([stored?.session.revision, stored?.session.messages.map((m) => m.content)], [cleared.revision + 2, ["a4", "a5"]]);
      await reopened.close();
    }));

  it("another instance reads a live segment past its read window and a record larger than it, and stops at the zeros ahead", () =>
    withDir(async (dir) => {
      const a = await openFileStore({ dir, warn: (m) => assert.fail(m), checkpointMs: 600_000 });
      const b = await openFileStore({ dir, warn: (m) => assert.fail(m) });
      const doc = await a.commit({ session: testSession(), expectedRevision: null });
      const texts = Array.from({ length: 120 }, (_, i) => `${i} ${"x".repeat(900)}`);
      texts.splice(60, 0, "y".repeat(150_000));
      await b.get(doc.id);
      const saved = await appendAll(a, doc, texts);
      const [segment] = await segments(dir);
      assert.ok(segment !== undefined);
      const bytes = await readFile(join(logDir(dir), segment));
      assert.ok(recordsEnd(bytes) > 200_000 && recordsEnd(bytes) < bytes.length, "records over several windows, zeros after them");
      const seen = await b.get(doc.id);
      assert.equal(seen?.session.revision, saved.revision);
      assert.deepEqual(
        seen?.session.messages.map((m) => m.content),
        texts,
      );
      // More records later: b reads on from where it stopped.
      await appendAll(a, saved, ["later"]);
      assert.equal((await b.get(doc.id))?.session.messages.at(-1)?.content, "later");
      await a.close();
      assert.deepEqual(await segments(dir), [], "checkpointed and removed on close");
      await b.close();
    }));

  it("a live segment has zeros written ahead of its records; sealing it cuts them", () =>
    withDir(async (dir) => {
      const writer = new LogWriter(dir);
      const doc = testSession();
      let cur: Session = doc;
      for (const text of ["one", "two"]) {
        const m = testMessage(text);
        const next: Session = { ...cur, revision: cur.revision + 1, messages: [...cur.messages, m] };
        await writer.append(recordOf({ summary: toSummary(cur, 0), last: cur.messages.at(-1)?.id ?? null }, next.revision, headerOf(cur), [m], { status: cur.status, size: 0 }));
        cur = next;
      }
      const segment = writer.active;
      assert.ok(segment !== undefined);
      const live = await readFile(join(dir, segment));
      const end = recordsEnd(live);
      assert.equal(end, writer.activeBytes);
      assert.ok(live.length >= end + 64 * 1024 && live.subarray(end).every((b) => b === 0), "zeros ahead of the records");
      assert.deepEqual(
        decodeFrames(live, 0).records.map((r) => r.record.m[0]?.content),
        ["one", "two"],
      );
      assert.equal(decodeFrames(live, 0).stop, "unwritten");
      writer.seal();
      const sealed = await readFile(join(dir, segment));
      assert.equal(sealed.length, end);
      assert.equal(decodeFrames(sealed, 0).stop, "end");
    }));

  it("close writes every pending append into its document", () =>
    withDir(async (dir) => {
      const store = await openFileStore({ dir, warn: (m) => assert.fail(m), checkpointMs: 600_000 });
      const doc = await store.commit({ session: testSession(), expectedRevision: null });
      await appendAll(store, doc, ["a", "b", "c"]);
      await store.close();
      const onDisk = (await readOnDisk(dir, doc.id)).session;
      assert.deepEqual(
        onDisk.messages.map((m) => m.content),
        ["a", "b", "c"],
      );
      assert.deepEqual(await segments(dir), []);
    }));

  it("opening after a crash replays the records into the documents, once", () =>
    withDir(async (dir) => {
      const doc = await crashAfter(dir, ["a", "b", "c"]);
      const warnings: string[] = [];
      const store = await openFileStore({ dir, warn: (m) => warnings.push(m) });
      const onDisk = (await readOnDisk(dir, doc.id)).session;
      assert.deepEqual([onDisk.revision, onDisk.messages.map((m) => m.content)], [4, ["a", "b", "c"]]);
      assert.deepEqual(await segments(dir), []);
      assert.deepEqual(warnings, []);
      await store.close();
      const again = await openFileStore({ dir, warn: (m) => assert.fail(m) });
      assert.deepEqual(
        (await again.get(doc.id))?.session.messages.map((m) => m.content),
        ["a", "b", "c"],
      );
      await again.close();
    }));

  it("a record found twice (a segment copied) is applied once", () =>
    withDir(async (dir) => {
      const doc = await crashAfter(dir, ["a", "b"]);
      const [segment] = await segments(dir);
      assert.ok(segment !== undefined);
      await copyFile(join(logDir(dir), segment), join(logDir(dir), segment.replace(/-(\d{6})\.log$/, "-000099.log")));
      const store = await openFileStore({ dir, warn: (m) => assert.fail(m) });
      assert.deepEqual(
        (await store.get(doc.id))?.session.messages.map((m) => m.content),
        ["a", "b"],
      );
      await store.close();
    }));

  const damages = {
    // A crash mid-write into the zeros written ahead: the record's last bytes never reached the disk.
    torn: (bytes: Buffer, end: number) => bytes.fill(0, end - 5, end),
    // A segment without zeros ahead (an earlier version's, or cut short) that ends inside its last record.
    truncated: (bytes: Buffer, end: number) => bytes.subarray(0, end - 5),
    checksum: (bytes: Buffer, end: number) => {
      bytes[end - 3] = (bytes[end - 3] ?? 0) ^ 0xff;
      return bytes;
    },
  };
  for (const [damage, apply] of Object.entries(damages)) {
    it(`a ${damage === "checksum" ? "checksum-failing" : damage} last record is discarded and reported; the records before it are replayed`, () =>
      withDir(async (dir) => {
        const doc = await crashAfter(dir, ["a", "b", "c"]);
        const [segment] = await segments(dir);
        assert.ok(segment !== undefined);
        const path = join(logDir(dir), segment);
        const bytes = await readFile(path);
        const end = recordsEnd(bytes);
        assert.ok(end > 0 && end < bytes.length, "a live writer's segment has zeros after its records");
        await writeFile(path, apply(bytes, end));
        const warnings: string[] = [];
        const store = await openFileStore({ dir, warn: (m) => warnings.push(m) });
        assert.deepEqual(
          (await store.get(doc.id))?.session.messages.map((m) => m.content),
          ["a", "b"],
        );
        assert.equal(warnings.length, 1, warnings.join("\n"));
        assert.match(warnings[0] ?? "", /torn or damaged record.*discarded/);
        // A new append continues from what was recovered.
        const cur = (await store.get(doc.id))?.session;
        assert.ok(cur !== undefined);
        await appendAll(store, cur, ["d"]);
        await store.close();
        const onDisk = (await readOnDisk(dir, doc.id)).session;
        assert.deepEqual(
          onDisk.messages.map((m) => m.content),
          ["a", "b", "d"],
        );
        assert.deepEqual(await segments(dir), []);
      }));
  }

  it("a document edited by hand after its records were written keeps the edit: the records are not applied on top of it", () =>
    withDir(async (dir) => {
      const doc = await crashAfter(dir, ["a"]);
      const path = join(dir, "sessions", `${doc.id}.json`);
      const edited = { ...(JSON.parse(await readFile(path, "utf8")) as Session), messages: [testMessage("written by hand")] };
      await writeFile(path, JSON.stringify(edited));
      const warnings: string[] = [];
      const store = await openFileStore({ dir, warn: (m) => warnings.push(m) });
      const got = (await store.get(doc.id))?.session;
      assert.deepEqual(
        got?.messages.map((m) => m.content),
        ["written by hand"],
      );
      assert.equal(got?.revision, 2, "the record's revision is kept, so every process agrees on it");
      assert.equal(warnings.length, 1);
      assert.match(warnings[0] ?? "", /was not applied.*edited by hand/);
      await store.close();
    }));

  it("appends from many sessions at once all land, each in order", () =>
    withDir(async (dir) => {
      const store = await openFileStore({ dir, warn: (m) => assert.fail(m) });
      const docs = await Promise.all(Array.from({ length: 20 }, () => store.commit({ session: testSession(), expectedRevision: null })));
      await Promise.all(docs.map((d) => appendAll(store, d, ["1", "2", "3", "4", "5"])));
      const other = await openFileStore({ dir, warn: (m) => assert.fail(m) });
      for (const d of docs)
        assert.deepEqual(
          (await other.get(d.id))?.session.messages.map((m) => m.content),
          ["1", "2", "3", "4", "5"],
        );
      await store.close();
      await other.close();
    }));
});
