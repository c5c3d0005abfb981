import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readdir, readFile, rename } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import type { Message, Session } from "../../src/session/types.js";
import { keyIdOf } from "../../src/store/_crypto.js";
import { Keyring } from "../../src/store/encryption.js";
import { openFileStore, type FileStore } from "../../src/store/file/file-store.js";
import type { StoreChange } from "../../src/store/store.js";
import { SessionManager } from "../../src/manager/manager.js";
import { readOnDisk } from "../helpers/store-files.js";
import { appendTo, testMessage, testSession } from "../helpers/store-sessions.js";
import { withTempDir } from "../helpers/store-tmp.js";
import { until } from "../helpers/until.js";

// A fold's commit (Commit.folds) is one log record in the file store: the header after the fold and
// the folded messages. Until a checkpoint writes the document, every read applies it.

/** A pid no process has, so a segment renamed to it counts as left by a dead writer. */
const DEAD_PID = 4_999_999;
const logDir = (dir: string) => join(dir, "sessions", "log");
const segments = async (dir: string) => (await readdir(logDir(dir))).filter((n) => n.endsWith(".log"));
const texts = (ms: readonly Message[] | undefined) => ms?.map((m) => m.content);

const withDir = withTempDir;

/** A session with `n` appended messages "m0".."m<n-1>", one record each. */
async function seeded(store: FileStore, n: number, prefix = "m"): Promise<Session> {
  let cur = await store.commit({ session: testSession(), expectedRevision: null });
  for (let i = 0; i < n; i++) cur = await appendTo(store, cur, [testMessage(`${prefix}${i}`)], { status: "active" });
  return cur;
}

/** Folds the messages at `indexes` of `cur` into a summary saying `text`, as the manager's fold commits it. */
async function fold(store: FileStore, cur: Session, indexes: number[], text: string): Promise<Session> {
  const folded = indexes.map((i) => cur.messages[i] as Message);
  const ids = new Set(folded.map((m) => m.id));
  const next: Session = {
    ...cur,
    summary: { text, tokens: 5, messageCount: (cur.summary?.messageCount ?? 0) + folded.length, throughMessageId: folded.at(-1)?.id ?? null, updatedAt: "2025-01-02T11:00:00.000Z", summarizer: "extractive" },
    messages: cur.messages.filter((m) => !ids.has(m.id)),
    prunedCount: cur.prunedCount + folded.length,
    context: { ...cur.context, compactions: cur.context.compactions + 1 },
  };
  return store.commit({ session: next, expectedRevision: cur.revision, pruned: { append: folded }, reason: "compacted", folds: true });
}

describe("file store: a fold is a log record", () => {
  it("another instance reads the folded session and its pruned history before the checkpoint, the same after it, and the document is written once", () =>
    withDir(async (dir) => {
      const a = await openFileStore({ dir, warn: (m) => assert.fail(m), checkpointMs: 600_000 });
      let cur = await seeded(a, 8);
      const headerBefore = await readFile(join(dir, "sessions", `${cur.id}.json`), "utf8");
      // Two folds, the second leaving a pinned-like gap (not a prefix), with an append between them.
      cur = await fold(a, cur, [0, 1, 2], "first fold");
      cur = await appendTo(a, cur, [testMessage("m8")], { status: "active" });
      cur = await fold(a, cur, [0, 2], "second fold");
      assert.deepEqual(texts(cur.messages), ["m4", "m6", "m7", "m8"]);
      assert.equal(await readFile(join(dir, "sessions", `${cur.id}.json`), "utf8"), headerBefore, "no fold rewrote the document");

      const b = await openFileStore({ dir, warn: (m) => assert.fail(m), checkpointMs: 600_000 });
      const seen = (await b.get(cur.id))?.session;
      assert.deepEqual(seen, cur, "another instance builds the same document from the records");
      assert.deepEqual(texts(await b.readPruned(cur.id)), ["m0", "m1", "m2", "m3", "m5"]);
      assert.equal((await b.list()).items.find((s) => s.id === cur.id)?.messageCount, 4);

      await a.checkpoint();
      const onDisk = (await readOnDisk(dir, cur.id)).session;
      assert.deepEqual([onDisk.revision, texts(onDisk.messages), onDisk.summary?.text, onDisk.prunedCount], [cur.revision, ["m4", "m6", "m7", "m8"], "second fold", 5]);
      assert.deepEqual(texts(await a.readPruned(cur.id)), ["m0", "m1", "m2", "m3", "m5"], "the checkpoint moved the folded messages to the pruned-history log, each once");
      assert.deepEqual((await b.get(cur.id))?.session, cur);
      await a.close();
      await b.close();
    }));

  it("through a manager, the folds its appends make due are records until the checkpoint writes them", () =>
    withDir(async (dir) => {
      const store = await openFileStore({ dir, warn: (m) => assert.fail(m), checkpointMs: 600_000 });
      const manager = await SessionManager.open({ store, config: { sessions: { maxHistoryLength: 6 } }, warn: (m) => assert.fail(m) });
      const session = await manager.create({ key: "dm:test:folds" });
      const header = join(dir, "sessions", `${session.id}.json`);
      const written = await readFile(header, "utf8");
      for (let i = 0; i < 14; i++) await manager.record({ ref: session.id }, { role: i % 2 === 0 ? "user" : "assistant", content: `turn text ${i}` });
      await manager.idle();
      const now = await manager.get(session.id);
      assert.ok(now.prunedCount > 0 && now.summary !== null, "the history was folded");
      assert.equal(await readFile(header, "utf8"), written, "no fold rewrote the document");
      const pruned = await store.readPruned(session.id);
      assert.deepEqual(
        texts([...pruned, ...now.messages]),
        Array.from({ length: 14 }, (_, i) => `turn text ${i}`),
      );
      // Closing checkpoints: the document on disk is the one read before.
      await manager.close();
      assert.notEqual(await readFile(header, "utf8"), written);
      const reopened = await openFileStore({ dir, warn: (m) => assert.fail(m) });
      assert.deepEqual((await reopened.get(session.id))?.session, now);
      assert.deepEqual(await reopened.readPruned(session.id), pruned);
      await reopened.close();
    }));

  it("a whole-document commit after a fold not yet checkpointed keeps the folded messages in the pruned history", () =>
    withDir(async (dir) => {
      const store = await openFileStore({ dir, warn: (m) => assert.fail(m), checkpointMs: 600_000 });
      let cur = await seeded(store, 5);
      cur = await fold(store, cur, [0, 1], "folded two");
      cur = await store.commit({ session: { ...cur, label: "renamed" }, expectedRevision: cur.revision });
      assert.deepEqual(texts(await store.readPruned(cur.id)), ["m0", "m1"]);
      await store.close();
      const again = await openFileStore({ dir, warn: (m) => assert.fail(m) });
      assert.deepEqual([(await again.get(cur.id))?.session.label, texts(await again.readPruned(cur.id))], ["renamed", ["m0", "m1"]]);
      await again.close();
    }));

  it("a writer that dies after a fold is acknowledged loses nothing: the next open checkpoints it", () =>
    withDir(async (dir) => {
      const store = await openFileStore({ dir, warn: (m) => assert.fail(m), checkpointMs: 600_000 });
      let cur = await seeded(store, 6);
      cur = await fold(store, cur, [0, 1, 2], "before the crash");
      cur = await appendTo(store, cur, [testMessage("m6")], { status: "active" });
      // The store is never closed: its segment is left as a killed process leaves it.
      const [segment] = await segments(dir);
      assert.ok(segment !== undefined);
      await rename(join(logDir(dir), segment), join(logDir(dir), segment.replace(/^\d+-/, `${DEAD_PID}-`)));
      const warnings: string[] = [];
      const reopened = await openFileStore({ dir, warn: (m) => warnings.push(m) });
      const onDisk = (await readOnDisk(dir, cur.id)).session;
      assert.deepEqual([onDisk.revision, texts(onDisk.messages), onDisk.summary?.text], [cur.revision, ["m3", "m4", "m5", "m6"], "before the crash"]);
      assert.deepEqual(texts(await reopened.readPruned(cur.id)), ["m0", "m1", "m2"]);
      assert.deepEqual(await segments(dir), [], "the recovered segment is removed");
      assert.deepEqual(warnings, []);
      await reopened.close();
    }));

  it("a fold whose base no longer matches the stored session is committed whole, never applied blindly", () =>
    withDir(async (dir) => {
      const store = await openFileStore({ dir, warn: (m) => assert.fail(m), checkpointMs: 600_000 });
      const cur = await seeded(store, 4);
      // The caller's document lost a message the store holds: the record path would drop it, so the whole document is saved instead.
      const skewed = { ...cur, messages: cur.messages.slice(0, 3) };
      const saved = await fold(store, skewed, [0], "skewed");
      assert.deepEqual(texts((await store.get(cur.id))?.session.messages), texts(saved.messages));
      assert.deepEqual(texts(saved.messages), ["m1", "m2"]);
      await store.close();
    }));

  it("sealed: the fold's record shows neither the summary nor a folded message in plain text, and reads back", () =>
    withDir(async (dir) => {
      const bytes = randomBytes(32);
      const keyring = new Keyring({ id: keyIdOf(bytes), bytes });
      const store = await openFileStore({ dir, warn: (m) => assert.fail(m), checkpointMs: 600_000, keyring });
      let cur = await seeded(store, 4, "secret-quokka-");
      cur = await fold(store, cur, [0, 1], "summary of secret-wombat");
      const raw = (await Promise.all((await segments(dir)).map((s) => readFile(join(logDir(dir), s), "latin1")))).join("");
      assert.ok(raw.length > 0);
      assert.ok(!raw.includes("secret-quokka") && !raw.includes("secret-wombat"), "the log shows sealed content in plain text");
      const other = await openFileStore({ dir, warn: (m) => assert.fail(m), checkpointMs: 600_000, keyring });
      assert.deepEqual((await other.get(cur.id))?.session, cur);
      assert.deepEqual(texts(await other.readPruned(cur.id)), ["secret-quokka-0", "secret-quokka-1"]);
      await other.close();
      await store.close();
    }));

  it("another instance's watcher hears a fold as compacted", () =>
    withDir(async (dir) => {
      const a = await openFileStore({ dir, warn: (m) => assert.fail(m), checkpointMs: 600_000 });
      const b = await openFileStore({ dir, warn: (m) => assert.fail(m), checkpointMs: 600_000, watchIntervalMs: 20 });
      let cur = await seeded(a, 4);
      const heard: StoreChange[] = [];
      const stop = b.watch((c) => heard.push(c));
      // A session created after watch() began is heard once the watcher has taken its baseline, which then holds `cur`.
      const sentinel = await a.commit({ session: testSession(), expectedRevision: null });
      await until("the watcher to take its baseline", () => heard.find((c) => c.id === sentinel.id));
      cur = await fold(a, cur, [0, 1], "heard");
      const change = await until("the fold to be heard", () => heard.find((c) => c.revision === cur.revision));
      assert.equal(change.reason, "compacted");
      stop();
      await a.close();
      await b.close();
    }));
});
