import assert from "node:assert/strict";
import { appendFile, mkdir, readdir, readFile, rm, stat, truncate, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { toSummary } from "../../src/session/lifecycle.js";
import type { Session, SessionSummary } from "../../src/session/types.js";
import { openFileStore, type FileStore } from "../../src/store/file/file-store.js";
import { inspectFiles } from "../../src/store/file/_doctor.js";
import { SYNC_READ_MAX_BYTES } from "../../src/store/file/_fs.js";
import { readOnDisk } from "../helpers/store-files.js";
import { appendTo, richSession, testMessage, testSession } from "../helpers/store-sessions.js";
import { tempDir } from "../helpers/store-tmp.js";

// The split layout: a small header `<id>.json` and the messages, one a line, in `<id>.<gen>.jsonl`.

const V1_FIXTURE = new URL("../fixtures/v1/session-basic.json", import.meta.url);
const V1_ID = "01939a6e-4c2b-7d3e-8f10-2a3b4c5d6e7f";

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const { dir, cleanup } = await tempDir();
  try {
    await fn(dir);
  } finally {
    await cleanup();
  }
}

async function appendOne(store: FileStore, cur: Session, text: string): Promise<Session> {
  const m = testMessage(text);
  return appendTo(store, cur, [m], { status: "active" });
}

const sessionFiles = async (dir: string, id: string) => (await readdir(join(dir, "sessions"))).filter((n) => n.startsWith(id) && /\.jsonl?$/.test(n)).sort();
const contents = (s: Session | undefined) => s?.messages.map((m) => m.content);

describe("file store message files", () => {
  it("a revision check outside the lock while a rewrite or an append is being written never leaves a stale revision behind", () =>
    withDir(async (dir) => {
      const store = await openFileStore({ dir, warn: (m) => assert.fail(m), checkpointMs: 600_000 });
      let cur = await store.commit({ session: testSession({ messages: [testMessage("first")] }), expectedRevision: null });
      for (let round = 0; round < 40; round++) {
        // A rewrite (what a fold commits) and an append, each raced by readers checking the revision without the lock.
        let done = false;
        const readers = Promise.all(
          Array.from({ length: 3 }, async () => {
            // Each look lets I/O run before the next: an answer from what the store remembers takes none.
            while (!done) await Promise.all([store.revisionOf(cur.id), new Promise(setImmediate)]);
          }),
        );
        const write =
          round % 2 === 0 ? store.commit({ session: { ...cur, messages: [...cur.messages.slice(-3), testMessage(`rewrite ${round}`)] }, expectedRevision: cur.revision }) : appendOne(store, cur, `append ${round}`);
        cur = await write.finally(() => (done = true));
        await readers;
        assert.equal(await store.revisionOf(cur.id), cur.revision, `round ${round}: the revision the write returned is the one the store reports`);
        // The next write at that revision is accepted: nothing remembered the one before.
        cur = await appendOne(store, cur, `after ${round}`);
      }
      await store.close();
      const reopened = await openFileStore({ dir, warn: (m) => assert.fail(m) });
      assert.deepEqual(contents((await reopened.get(cur.id))?.session), contents(cur));
      await reopened.close();
    }));

  it("a checkpoint appends the new lines to the message file and leaves the lines before them untouched", () =>
    withDir(async (dir) => {
      const store = await openFileStore({ dir, warn: (m) => assert.fail(m), checkpointMs: 600_000 });
      const doc = await store.commit({ session: testSession({ messages: [testMessage("first")] }), expectedRevision: null });
      const path = join(dir, "sessions", `${doc.id}.1.jsonl`);
      const before = await readFile(path);
      let cur = await appendOne(store, doc, "second");
      await store.checkpoint();
      cur = await appendOne(store, cur, "third");
      await store.checkpoint();
      const after = await readFile(path);
      assert.deepEqual(after.subarray(0, before.length), before, "the first generation is only appended to");
      const { session, pointer } = await readOnDisk(dir, doc.id);
      assert.deepEqual(contents(session), ["first", "second", "third"]);
      assert.deepEqual(pointer, { gen: 1, bytes: after.length, count: 3, tokens: session.messages.reduce((t, m) => t + m.tokens, 0), last: cur.messages[2]?.id });
      assert.equal(session.revision, 3);
      assert.deepEqual(await sessionFiles(dir, doc.id), [`${doc.id}.1.jsonl`, `${doc.id}.json`]);
      assert.equal((await store.list()).items[0]?.messageCount, 3);
      assert.equal((await store.get(doc.id))?.sizeBytes, (await stat(join(dir, "sessions", `${doc.id}.json`))).size + after.length);
      await store.close();
    }));

  it("lines past the committed length (a checkpoint cut short) are not read, and the next checkpoint writes over them", () =>
    withDir(async (dir) => {
      const store = await openFileStore({ dir, warn: (m) => assert.fail(m), checkpointMs: 600_000 });
      const doc = await store.commit({ session: testSession({ messages: [testMessage("kept")] }), expectedRevision: null });
      const path = join(dir, "sessions", `${doc.id}.1.jsonl`);
      await appendFile(path, `${JSON.stringify(testMessage("never committed"))}\n{"torn`);
      const other = await openFileStore({ dir, warn: (m) => assert.fail(m) });
      assert.deepEqual(contents((await other.get(doc.id))?.session), ["kept"]);
      await appendOne(store, doc, "next");
      await store.checkpoint();
      assert.deepEqual(contents((await other.get(doc.id))?.session), ["kept", "next"]);
      assert.doesNotMatch(await readFile(path, "utf8"), /never committed|torn/);
      await other.close();
      await store.close();
    }));

  it("a message file on either side of the synchronous-read bound is read back whole by a fresh store", () =>
    withDir(async (dir) => {
      const store = await openFileStore({ dir, warn: (m) => assert.fail(m) });
      // Just under the bound (read synchronously) and well over it (read through the thread pool).
      const sizes = [Math.floor(SYNC_READ_MAX_BYTES / 2) - 500, SYNC_READ_MAX_BYTES * 3];
      const ids: string[] = [];
      for (const [n, total] of sizes.entries()) {
        const texts = Array.from({ length: 2 }, (_, i) => `${n}-${i} ${"é".repeat(Math.floor(total / 4))}`);
        ids.push((await store.commit({ session: testSession({ messages: texts.map((t) => testMessage(t)) }), expectedRevision: null })).id);
      }
      await store.close();
      const messageFiles = await Promise.all(ids.map(async (id) => (await stat(join(dir, "sessions", `${id}.1.jsonl`))).size));
      assert.ok((messageFiles[0] ?? 0) <= SYNC_READ_MAX_BYTES && (messageFiles[1] ?? 0) > SYNC_READ_MAX_BYTES, `message files of ${messageFiles.join(" and ")} bytes`);
      const fresh = await openFileStore({ dir, warn: (m) => assert.fail(m) });
      for (const [n, id] of ids.entries()) {
        const got = contents((await fresh.get(id))?.session);
        assert.equal(got?.length, 2);
        assert.ok(got?.every((c, i) => c.startsWith(`${n}-${i} `) && c.length === `${n}-${i} `.length + Math.floor((sizes[n] ?? 0) / 4)));
      }
      await fresh.close();
    }));

  it("a whole save writes the next generation and removes the one it replaces; delete removes the message file", () =>
    withDir(async (dir) => {
      const store = await openFileStore({ dir, warn: (m) => assert.fail(m) });
      const doc = await store.commit({ session: testSession({ messages: [testMessage("a"), testMessage("b")] }), expectedRevision: null });
      const edited = await store.commit({ session: { ...doc, messages: [doc.messages[1] as Session["messages"][number]] }, expectedRevision: 1 });
      assert.deepEqual(await sessionFiles(dir, doc.id), [`${doc.id}.2.jsonl`, `${doc.id}.json`]);
      assert.deepEqual(contents((await store.get(doc.id))?.session), ["b"]);
      const cleared = await store.commit({ session: { ...edited, messages: [] }, expectedRevision: 2 });
      assert.deepEqual(await sessionFiles(dir, doc.id), [`${doc.id}.json`], "an empty history has no message file");
      assert.equal((await readOnDisk(dir, doc.id)).pointer?.gen, 3);
      const again = await appendOne(store, cleared, "after clear");
      await store.checkpoint();
      assert.deepEqual(await sessionFiles(dir, doc.id), [`${doc.id}.3.jsonl`, `${doc.id}.json`]);
      assert.deepEqual(contents((await store.get(doc.id))?.session), ["after clear"]);
      assert.equal(await store.delete(doc.id, undefined, again.revision), true);
      assert.deepEqual(await sessionFiles(dir, doc.id), []);
      await store.close();
    }));

  it("a document holding its messages inline (the earlier layout) is read as it is and takes the split layout at its next checkpoint", () =>
    withDir(async (dir) => {
      await mkdir(join(dir, "sessions"), { recursive: true });
      const text = await readFile(V1_FIXTURE, "utf8");
      await writeFile(join(dir, "sessions", `${V1_ID}.json`), text);
      const store = await openFileStore({ dir, warn: (m) => assert.fail(m), checkpointMs: 600_000 });
      const loaded = await store.get(V1_ID);
      assert.ok(loaded);
      const inline = (JSON.parse(text) as Session).messages.map((m) => m.content);
      assert.deepEqual(contents(loaded.session), inline);
      assert.equal(loaded.sizeBytes, Buffer.byteLength(text));
      await store.checkpoint();
      assert.equal(await readFile(join(dir, "sessions", `${V1_ID}.json`), "utf8"), text, "nothing to checkpoint: left as it is");
      await appendOne(store, loaded.session, "appended");
      await store.checkpoint();
      assert.deepEqual(await sessionFiles(dir, V1_ID), [`${V1_ID}.1.jsonl`, `${V1_ID}.json`]);
      const { session, pointer } = await readOnDisk(dir, V1_ID);
      assert.deepEqual(contents(session), [...inline, "appended"]);
      assert.equal(pointer?.count, inline.length + 1);
      const fresh = await openFileStore({ dir, warn: (m) => assert.fail(m) });
      const reread = (await fresh.get(V1_ID))?.session;
      assert.deepEqual(
        { ...reread, messages: reread?.messages.slice(0, -1) },
        { ...loaded.session, revision: 8, status: "active", messages: loaded.session.messages, updatedAt: reread?.updatedAt, lastActivityAt: reread?.lastActivityAt, context: reread?.context },
      );
      await fresh.close();
      await store.close();
    }));

  it("a message file shorter than its header says is reported and quarantined with its header; doctor --fix restores the pair once repaired", () =>
    withDir(async (dir) => {
      const store = await openFileStore({ dir, warn: () => {} });
      const doc = await store.commit({ session: testSession({ messages: [testMessage("one"), testMessage("two")] }), expectedRevision: null });
      await store.close();
      const path = join(dir, "sessions", `${doc.id}.1.jsonl`);
      const whole = await readFile(path);
      await truncate(path, whole.length - 3);
      const warnings: string[] = [];
      const again = await openFileStore({ dir, warn: (m) => warnings.push(m) });
      assert.equal(await again.get(doc.id), undefined);
      assert.equal(warnings.length, 1);
      assert.match(
        warnings[0] ?? "",
        new RegExp(`^sessions/${doc.id}\\.json: corrupt session file \\(${doc.id}\\.1\\.jsonl holds \\d+ bytes, fewer than the \\d+ its header counts\\); moved to sessions/quarantine/${doc.id}\\.json$`),
      );
      const quarantine = join(dir, "sessions", "quarantine");
      assert.deepEqual((await readdir(quarantine)).sort(), [`${doc.id}.json`, `${doc.id}.json.1.jsonl`]);
      assert.deepEqual(await sessionFiles(dir, doc.id), []);
      assert.equal((await again.list()).total, 0);
      await again.close();
      // Repaired by hand: doctor --fix moves both back.
      await writeFile(join(quarantine, `${doc.id}.json.1.jsonl`), whole);
      const report = await inspectFiles(join(dir, "sessions"), true);
      assert.deepEqual(
        report.problems.map((p) => [p.file, p.fixed]),
        [[`sessions/quarantine/${doc.id}.json`, true]],
      );
      assert.deepEqual(await sessionFiles(dir, doc.id), [`${doc.id}.1.jsonl`, `${doc.id}.json`]);
      const restored = await openFileStore({ dir, warn: (m) => assert.fail(m) });
      assert.deepEqual(contents((await restored.get(doc.id))?.session), ["one", "two"]);
      await restored.close();
    }));

  it("an index rebuilt from the headers lists what reading every message gives, for inline documents, empty histories and lines past the committed length", () =>
    withDir(async (dir) => {
      await mkdir(join(dir, "sessions"), { recursive: true });
      await writeFile(join(dir, "sessions", `${V1_ID}.json`), await readFile(V1_FIXTURE, "utf8"));
      const store = await openFileStore({ dir, warn: (m) => assert.fail(m), checkpointMs: 600_000 });
      const rich = await store.commit({ session: richSession(), expectedRevision: null });
      const empty = await store.commit({ session: testSession(), expectedRevision: null });
      const cut = await store.commit({ session: testSession({ messages: [testMessage("kept"), testMessage("also kept")] }), expectedRevision: null });
      const appended = await appendOne(store, rich, "appended");
      await store.checkpoint();
      // A checkpoint cut short: lines past the committed length, and a torn one.
      await appendFile(join(dir, "sessions", `${cut.id}.1.jsonl`), `${JSON.stringify(testMessage("never committed"))}\n{"torn`);
      const ids = [V1_ID, rich.id, empty.id, cut.id];
      // Every message read: the summaries the index must hold.
      const expected = new Map<string, SessionSummary>();
      for (const id of ids) {
        const loaded = await store.get(id);
        assert.ok(loaded, id);
        expected.set(id, toSummary(loaded.session, loaded.sizeBytes));
      }
      assert.equal(expected.get(rich.id)?.messageCount, appended.messages.length);
      assert.equal(expected.get(cut.id)?.messageCount, 2);
      const byId = async (s: FileStore) => new Map((await s.list()).items.map((i) => [i.id, i]));
      assert.deepEqual((await store.maintain()).quarantined, []);
      assert.deepEqual(await byId(store), expected);
      await store.close();
      // A store opened without any index rebuilds it on its first list.
      await rm(join(dir, "sessions", "index.json"));
      await rm(join(dir, "sessions", "index.journal"), { force: true });
      const fresh = await openFileStore({ dir, warn: (m) => assert.fail(m) });
      assert.deepEqual(await byId(fresh), expected);
      assert.match(await readFile(join(dir, "sessions", `${cut.id}.1.jsonl`), "utf8"), /never committed/, "nothing rewritten");
      await fresh.close();
    }));

  it("maintain removes message files no header names once they are old, and keeps the named one and young ones", () =>
    withDir(async (dir) => {
      const store = await openFileStore({ dir, warn: () => {} });
      const doc = await store.commit({ session: testSession({ messages: [testMessage("live")] }), expectedRevision: null });
      const sessions = join(dir, "sessions");
      const old = new Date(Date.now() - 120_000);
      const orphans = [`${doc.id}.7.jsonl`, `${testSession().id}.1.jsonl`];
      for (const name of orphans) {
        await writeFile(join(sessions, name), "{}\n");
        await utimes(join(sessions, name), old, old);
      }
      await utimes(join(sessions, `${doc.id}.1.jsonl`), old, old);
      await writeFile(join(sessions, `${doc.id}.2.jsonl`), "{}\n");
      assert.equal((await store.maintain()).leftoversRemoved, 2);
      assert.deepEqual(await sessionFiles(dir, doc.id), [`${doc.id}.1.jsonl`, `${doc.id}.2.jsonl`, `${doc.id}.json`]);
      assert.deepEqual(contents((await store.get(doc.id))?.session), ["live"]);
      await store.close();
    }));
});
