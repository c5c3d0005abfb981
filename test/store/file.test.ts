import assert from "node:assert/strict";
import { appendFile, mkdir, readdir, readFile, rm, stat, unlink, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { describe, it } from "node:test";
import type { FileStoreOptions } from "../../src/store/file/file-store.js";
import { FileStore, openFileStore } from "../../src/store/file/file-store.js";
import { storeConformance } from "../conformance/store.js";
import { testId, testMessage, testSession } from "../helpers/store-sessions.js";
import { tempDir } from "../helpers/store-tmp.js";

storeConformance("file", async () => {
  const { dir, cleanup } = await tempDir();
  const state = join(dir, "state");
  // A short poll keeps the suite's watch tests quick; reopen gives a second instance on the same files, like another process.
  const open = () => openFileStore({ dir: state, warn: () => {}, watchIntervalMs: 10 });
  const store = await open();
  return { store, cleanup, reopen: open };
});

/** Every path under `root`, relative, directories marked with a trailing slash. */
async function tree(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      out.push(relative(root, p) + (e.isDirectory() ? "/" : ""));
      if (e.isDirectory()) await walk(p);
    }
  };
  await walk(root);
  return out.sort();
}

async function withStore(fn: (store: FileStore, dir: string, warnings: string[]) => Promise<void>, options: Partial<FileStoreOptions> = {}): Promise<void> {
  const { dir, cleanup } = await tempDir();
  const warnings: string[] = [];
  try {
    const store = await openFileStore({ dir, warn: (m) => warnings.push(m), ...options });
    await fn(store, dir, warnings);
  } finally {
    await cleanup();
  }
}

describe("file store layout", () => {
  it("a session is a compact header at sessions/<id>.json, version, id and revision first, and its messages one a line in sessions/<id>.<gen>.jsonl", () =>
    withStore(async (store, dir) => {
      const doc = await store.commit({ session: testSession({ messages: [testMessage("hi")] }), expectedRevision: null });
      const raw = await readFile(join(dir, "sessions", `${doc.id}.json`), "utf8");
      assert.ok(raw.startsWith(`{"version":2,"id":"${doc.id}","revision":1,"messageFile":{"gen":1,`), raw.slice(0, 120));
      assert.ok(!raw.includes("\n"), "no pretty-printing");
      assert.ok(!raw.includes('"messages"'), "the header holds no messages");
      const lines = await readFile(join(dir, "sessions", `${doc.id}.1.jsonl`), "utf8");
      assert.deepEqual(lines.split("\n"), [JSON.stringify(doc.messages[0]), ""]);
      const size = Buffer.byteLength(raw) + Buffer.byteLength(lines);
      assert.equal((await store.get(doc.id))?.sizeBytes, size);
      assert.equal((await store.list()).items[0]?.sizeBytes, size);
    }));

  for (const umask of [0o000, 0o277]) {
    it(`files are 0600 and directories 0700 even under umask ${umask.toString(8).padStart(3, "0")}`, async () => {
      const { dir, cleanup } = await tempDir();
      const previous = process.umask(umask);
      try {
        const store = await openFileStore({ dir: join(dir, "state"), warn: () => {}, journalFoldBytes: 1 });
        const doc = await store.commit({ session: testSession(), expectedRevision: null });
        await store.commit({ session: doc, expectedRevision: 1, pruned: { append: [testMessage("old")] } });
        await store.commit({ session: { ...doc, channel: "again" }, expectedRevision: 2, pruned: { replace: [testMessage("new")] } });
        await writeFile(join(dir, "state", "sessions", `${testId()}.json`), "{broken");
        await store.list();
        for (const path of await tree(join(dir, "state"))) {
          // A leased lock file is given back a moment after the last write and may go between the listing and the stat.
          const st = await stat(join(dir, "state", path)).catch((err: NodeJS.ErrnoException) => {
            if (err.code === "ENOENT" && /\.lock(\.want)?$/.test(path)) return undefined;
            throw err;
          });
          if (st === undefined) continue;
          const expected = st.isDirectory() ? 0o700 : 0o600;
          // The file we planted ourselves was written by the test, not the store.
          if (path.startsWith("sessions/quarantine/") && path !== "sessions/quarantine/") continue;
          assert.equal((st.mode & 0o777).toString(8), expected.toString(8), path);
        }
        assert.equal(((await stat(join(dir, "state"))).mode & 0o777).toString(8), "700");
      } finally {
        process.umask(previous);
        await cleanup();
      }
    });
  }

  it("hostile ids never create or touch a file outside the store", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const state = join(dir, "a", "b", "state");
      const store = await openFileStore({ dir: state, warn: () => {} });
      // The index lock is a lease the store drops on its own timer (25 ms idle): not a file an id made.
      const files = async () => (await tree(dir)).filter((p) => p !== "a/b/state/sessions/index.lock");
      const before = await files();
      for (const bad of ["../../etc/passwd", "../../../x", "..", "", "/tmp/evil", "a/../../b", "0193b2c4-5d6e-7f80-9a1b-2c3d4e5f6a7b/../x"]) {
        await assert.rejects(store.get(bad), { code: "INVALID_ID" });
        await assert.rejects(store.commit({ session: { ...testSession(), id: bad }, expectedRevision: null }), { code: "INVALID_ID" });
        await assert.rejects(store.commit({ session: { ...testSession(), id: bad }, expectedRevision: 1, pruned: { append: [testMessage("x")] } }), { code: "INVALID_ID" });
        await assert.rejects(store.commit({ session: { ...testSession(), id: bad }, expectedRevision: 1, pruned: { replace: [testMessage("x")] } }), { code: "INVALID_ID" });
        await assert.rejects(store.delete(bad), { code: "INVALID_ID" });
        await assert.rejects(
          store.withLock(bad, async () => undefined),
          { code: "INVALID_ID" },
        );
        await assert.rejects(store.readPruned(bad), { code: "INVALID_ID" });
        await assert.rejects(store.revisionOf(bad), { code: "INVALID_ID" });
      }
      assert.deepEqual(await files(), before);
    } finally {
      await cleanup();
    }
  });
});

describe("file store index", () => {
  const seed = async (store: FileStore, n: number): Promise<string[]> => {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      ids.push((await store.commit({ session: testSession({ lastActivityAt: new Date(Date.UTC(2025, 0, 5, 0, i)).toISOString() }), expectedRevision: null })).id);
    }
    return ids.reverse();
  };
  const ids = async (store: FileStore): Promise<string[]> => (await store.list()).items.map((i) => i.id);

  it("list stays right when the index files are deleted", () =>
    withStore(async (store, dir) => {
      const expected = await seed(store, 4);
      await ids(store);
      await rm(join(dir, "sessions", "index.json"));
      await rm(join(dir, "sessions", "index.journal"), { force: true });
      assert.deepEqual(await ids(store), expected);
      const other = await openFileStore({ dir, warn: () => {} });
      assert.deepEqual(await ids(other), expected);
      JSON.parse(await readFile(join(dir, "sessions", "index.json"), "utf8"));
    }));

  it("a corrupt index snapshot is rebuilt from the documents, with a warning", () =>
    withStore(async (store, dir, warnings) => {
      const expected = await seed(store, 3);
      await writeFile(join(dir, "sessions", "index.json"), "\u0000\u0001garbage");
      const other = await openFileStore({ dir, warn: (m) => warnings.push(m) });
      assert.deepEqual(await ids(other), expected);
      assert.equal(warnings.length, 1);
      assert.match(warnings[0] ?? "", /index\.json.*rebuild/);
      assert.equal(JSON.parse(await readFile(join(dir, "sessions", "index.json"), "utf8")).entries.length, 3);
    }));

  it("a torn journal line leads to a rebuild, not a wrong list", () =>
    withStore(async (store, dir) => {
      const expected = await seed(store, 3);
      await appendFile(join(dir, "sessions", "index.journal"), '{"op":"put","s":{"id":"trunc');
      const other = await openFileStore({ dir, warn: () => {} });
      assert.deepEqual(await ids(other), expected);
      const more = await store.commit({ session: testSession({ lastActivityAt: "2025-02-01T00:00:00.000Z" }), expectedRevision: null });
      assert.deepEqual(await ids(other), [more.id, ...expected]);
    }));

  it("a session file added or removed behind the index's back is reflected in the list", () =>
    withStore(async (store, dir) => {
      const [newest, ...rest] = await seed(store, 3);
      assert.ok(newest);
      assert.equal((await store.list()).total, 3);
      const { dir: otherDir, cleanup } = await tempDir();
      try {
        const donor = await openFileStore({ dir: otherDir, warn: () => {} });
        const added = await donor.commit({ session: testSession({ lastActivityAt: "2025-03-01T00:00:00.000Z", messages: [testMessage("x")] }), expectedRevision: null });
        await writeFile(join(dir, "sessions", `${added.id}.1.jsonl`), await readFile(join(otherDir, "sessions", `${added.id}.1.jsonl`)));
        await writeFile(join(dir, "sessions", `${added.id}.json`), await readFile(join(otherDir, "sessions", `${added.id}.json`)));
        await unlink(join(dir, "sessions", `${newest}.json`));
        const page = await store.list();
        assert.deepEqual(
          page.items.map((i) => i.id),
          [added.id, ...rest],
        );
        assert.equal(page.items[0]?.messageCount, 1);
        // The repair is persisted: a fresh process agrees without rescanning.
        const other = await openFileStore({ dir, warn: () => {} });
        assert.deepEqual(await ids(other), [added.id, ...rest]);
      } finally {
        await cleanup();
      }
    }));

  it("two store instances on one directory see each other's saves and deletes", () =>
    withStore(async (a, dir) => {
      const b = await openFileStore({ dir, warn: () => {} });
      const doc = await a.commit({ session: testSession(), expectedRevision: null });
      assert.equal((await b.list()).items[0]?.revision, 1);
      await a.commit({ session: { ...doc, messages: [testMessage("m")] }, expectedRevision: 1 });
      assert.equal((await b.list()).items[0]?.messageCount, 1);
      await a.delete(doc.id);
      assert.equal((await b.list()).total, 0);
    }));

  it("a long journal is folded into the snapshot and nothing is lost", () =>
    withStore(
      async (store, dir) => {
        const expected = await seed(store, 12);
        const names = await readdir(join(dir, "sessions"));
        const journal = names.includes("index.journal") ? await readFile(join(dir, "sessions", "index.journal"), "utf8") : "";
        assert.ok(journal.split("\n").length < 12, "the journal was folded at least once");
        const snapshot = JSON.parse(await readFile(join(dir, "sessions", "index.json"), "utf8"));
        assert.ok(snapshot.entries.length > 0);
        assert.deepEqual(await ids(store), expected);
        assert.deepEqual(await ids(await openFileStore({ dir, warn: () => {} })), expected);
      },
      { journalFoldBytes: 1500 },
    ));

  it("listing does not parse documents once the index knows them", () =>
    withStore(async (store, dir) => {
      const [first] = await seed(store, 2);
      assert.ok(first);
      await store.list();
      // A document made unreadable without the index noticing would be quarantined by any parse.
      await writeFile(join(dir, "sessions", `${first}.json`), "{not json");
      assert.equal((await store.list()).total, 2);
      assert.deepEqual(await readdir(join(dir, "sessions", "quarantine")), []);
    }));
});

describe("file store directories", () => {
  it("opening creates the state directory and sessions/quarantine inside it", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const state = join(dir, "deep", "state");
      await openFileStore({ dir: state, warn: () => {} });
      assert.ok((await stat(join(state, "sessions", "quarantine"))).isDirectory());
    } finally {
      await cleanup();
    }
  });

  it("sizeOnDisk counts the bytes of every file under sessions/ but lock files", () =>
    withStore(async (store, dir) => {
      const doc = await store.commit({ session: testSession(), expectedRevision: null });
      await store.commit({ session: doc, expectedRevision: 1, pruned: { append: [testMessage("pruned")] } });
      await mkdir(join(dir, "unrelated"));
      await writeFile(join(dir, "unrelated", "big"), "x".repeat(10_000));
      let expected = 0;
      for (const p of await tree(join(dir, "sessions"))) {
        const st = await stat(join(dir, "sessions", p));
        // A leased lock outlives the commit; it is not stored data.
        if (st.isFile() && !p.endsWith(".lock")) expected += st.size;
      }
      assert.equal(await store.sizeOnDisk(), expected);
      assert.ok(expected > 0);
    }));
});

describe("file store commit", () => {
  const logPath = (dir: string, id: string): string => join(dir, "sessions", `${id}.pruned.jsonl`);

  it("a fold logs the messages and saves the document; a retried fold keeps each id once", () =>
    withStore(async (store) => {
      const [a, b, c] = [testMessage("a"), testMessage("b"), testMessage("c")];
      const doc = await store.commit({ session: testSession({ messages: [a, b, c] }), expectedRevision: null });
      const folded = await store.commit({ session: { ...doc, messages: [c], prunedCount: 2 }, expectedRevision: 1, pruned: { append: [a, b] }, reason: "compacted" });
      assert.equal(folded.revision, 2);
      assert.deepEqual(
        (await store.readPruned(doc.id)).map((m) => m.content),
        ["a", "b"],
      );
      // What a fold retried after a crash between log and document looks like: the same ids logged again.
      await store.commit({ session: { ...folded, messages: [], prunedCount: 3 }, expectedRevision: 2, pruned: { append: [a, b, c] }, reason: "compacted" });
      assert.deepEqual(
        (await store.readPruned(doc.id)).map((m) => m.content),
        ["a", "b", "c"],
      );
      assert.deepEqual((await store.get(doc.id))?.session.messages, []);
    }));

  it("an append to the pruned log cut short by a kill is neither reported nor kept: the next fold cuts it off", () =>
    withStore(async (store, dir, warnings) => {
      const [a, b, c, d] = [testMessage("a"), testMessage("b"), testMessage("c"), testMessage("d")];
      const doc = await store.commit({ session: testSession({ messages: [a, b, c, d] }), expectedRevision: null });
      const folded = await store.commit({ session: { ...doc, messages: [c, d], prunedCount: 2 }, expectedRevision: 1, pruned: { append: [a, b] }, reason: "compacted" });
      // What a writer killed in the middle of logging the next fold leaves: part of a line, no newline.
      const whole = `${JSON.stringify(c)}\n`;
      await appendFile(logPath(dir, doc.id), whole.slice(0, whole.length - 9));
      assert.deepEqual(
        (await store.readPruned(doc.id)).map((m) => m.content),
        ["a", "b"],
      );
      assert.deepEqual(warnings, [], "an unfinished last line is an append in progress or an interrupted one, not damage");
      await store.commit({ session: { ...folded, messages: [d], prunedCount: 3 }, expectedRevision: 2, pruned: { append: [c] }, reason: "compacted" });
      assert.deepEqual(
        (await store.readPruned(doc.id)).map((m) => m.content),
        ["a", "b", "c"],
      );
      const lines = (await readFile(logPath(dir, doc.id), "utf8")).split("\n");
      assert.deepEqual(lines.length, 4, "three whole lines: the torn one is gone");
      assert.deepEqual(warnings, []);
      // A whole line that is not a message is damage, reported; an unterminated valid line (a hand edit) is kept.
      await appendFile(logPath(dir, doc.id), `not a message\n${JSON.stringify(testMessage("by hand"))}`);
      assert.deepEqual(
        (await store.readPruned(doc.id)).map((m) => m.content),
        ["a", "b", "c", "by hand"],
      );
      assert.equal(warnings.length, 1);
      assert.match(warnings[0] ?? "", /line 4 is not a valid message/);
      await store.commit({ session: { ...folded, revision: 3, messages: [], prunedCount: 4 }, expectedRevision: 3, pruned: { append: [d] }, reason: "compacted" });
      assert.deepEqual(
        (await store.readPruned(doc.id)).map((m) => m.content),
        ["a", "b", "c", "by hand", "d"],
      );
    }));

  it("a conflicting commit writes neither the document nor the log", () =>
    withStore(async (store, dir) => {
      const doc = await store.commit({ session: testSession({ messages: [testMessage("keep")] }), expectedRevision: null });
      await assert.rejects(store.commit({ session: { ...doc, messages: [] }, expectedRevision: 5, pruned: { append: [testMessage("x")] } }), { code: "CONFLICT" });
      await assert.rejects(store.commit({ session: doc, expectedRevision: null, pruned: { replace: [testMessage("x")] } }), { code: "CONFLICT" });
      await assert.rejects(stat(logPath(dir, doc.id)), { code: "ENOENT" });
      assert.equal((await store.get(doc.id))?.session.revision, 1);
    }));

  it("an invalid pruned message or document fails the commit before anything is written", () =>
    withStore(async (store, dir) => {
      const doc = await store.commit({ session: testSession(), expectedRevision: null });
      const bad = { ...testMessage("bad"), tokens: -1 };
      await assert.rejects(store.commit({ session: doc, expectedRevision: 1, pruned: { append: [testMessage("fine"), bad] } }), { code: "INVALID_ARGUMENT" });
      await assert.rejects(store.commit({ session: { ...doc, status: "nonsense" as "active" }, expectedRevision: 1, pruned: { append: [testMessage("fine")] } }), { code: "INVALID_ARGUMENT" });
      await assert.rejects(stat(logPath(dir, doc.id)), { code: "ENOENT" });
      assert.equal((await store.get(doc.id))?.session.revision, 1);
    }));

  it("a replace swaps the whole log, and an empty one removes it", () =>
    withStore(async (store, dir) => {
      const doc = await store.commit({ session: testSession(), expectedRevision: null, pruned: { append: [testMessage("old")] } });
      await store.commit({ session: doc, expectedRevision: 1, pruned: { replace: [testMessage("new")] }, reason: "imported" });
      assert.deepEqual(
        (await store.readPruned(doc.id)).map((m) => m.content),
        ["new"],
      );
      await store.commit({ session: doc, expectedRevision: 2, pruned: { replace: [] }, reason: "cleared" });
      await assert.rejects(stat(logPath(dir, doc.id)), { code: "ENOENT" });
      assert.deepEqual(await store.readPruned(doc.id), []);
    }));

  it("journal lines carry the reason and the writer; a deletion carries the key; lines without them still load", () =>
    withStore(async (store, dir) => {
      const journal = join(dir, "sessions", "index.journal");
      const lines = async (): Promise<Record<string, unknown>[]> =>
        (await readFile(journal, "utf8"))
          .trim()
          .split("\n")
          .map((l) => JSON.parse(l));
      const doc = await store.commit({ session: testSession(), expectedRevision: null });
      await store.commit({ session: { ...doc, status: "archived", archivedAt: "2025-01-03T00:00:00.000Z" }, expectedRevision: 1, reason: "archived" });
      await store.list();
      await store.delete(doc.id);
      const [created, archived, deleted] = await lines();
      assert.equal(created?.r, "created");
      assert.equal(archived?.r, "archived");
      assert.deepEqual({ ...deleted, w: undefined }, { op: "del", id: doc.id, k: doc.key, r: "deleted", w: undefined, ps: "archived" });
      assert.match(String(created?.w), /^[0-9a-f]{16}$/);
      assert.ok(created?.w === archived?.w && archived?.w === deleted?.w, "one writer id per instance");
      const other = await openFileStore({ dir, warn: () => {} });
      const again = await other.commit({ session: testSession(), expectedRevision: null });
      assert.notEqual((await lines()).at(-1)?.w, created?.w, "each instance has its own writer id");
      // A line as older versions wrote it: no reason, no writer.
      const legacy = { op: "put", s: { ...(await other.list()).items[0], revision: 7 } };
      await appendFile(journal, `${JSON.stringify(legacy)}\n`);
      const fresh = await openFileStore({ dir, warn: (m) => assert.fail(m) });
      assert.deepEqual(
        (await fresh.list()).items.map((i) => [i.id, i.revision]),
        [[again.id, 7]],
      );
    }));
});
