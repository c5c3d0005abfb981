import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { unlinkSync, writeFileSync } from "node:fs";
import { mkdir, readdir, readFile, stat, symlink, utimes, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import type { FileStore, FileStoreOptions } from "../../src/store/file/file-store.js";
import { openFileStore } from "../../src/store/file/file-store.js";
import { testId, testSession } from "../helpers/store-sessions.js";
import { tempDir } from "../helpers/store-tmp.js";

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

/** The pid of a process that has already exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", "0"], { stdio: "ignore" });
  await new Promise((resolve) => child.on("exit", resolve));
  assert.ok(child.pid !== undefined);
  return child.pid;
}

/** A live process to own foreign locks, stopped by the returned function. */
function livePid(): { pid: number; stop: () => void } {
  const child = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"], { stdio: "ignore" });
  assert.ok(child.pid !== undefined);
  return { pid: child.pid, stop: () => child.kill("SIGKILL") };
}

const lockFile = (dir: string, name: string): string => join(dir, "sessions", `${name}.lock`);
const plantLock = (dir: string, name: string, pid: number, host = hostname()): Promise<void> => writeFile(lockFile(dir, name), JSON.stringify({ pid, hostname: host, createdAt: "2025-01-01T00:00:00.000Z" }));
const age = async (path: string, ms: number): Promise<void> => {
  const t = new Date(Date.now() - ms);
  await utimes(path, t, t);
};
const exists = (path: string): Promise<boolean> =>
  stat(path).then(
    () => true,
    () => false,
  );

describe("file store corruption", () => {
  const cases: [string, (id: string) => string | Buffer][] = [
    ["truncated JSON", (id) => JSON.stringify(testSession({ id })).slice(0, 120)],
    ["binary garbage", () => Buffer.from([0, 159, 146, 150, 255, 1, 2, 3])],
    ["an unknown format version", (id) => JSON.stringify({ ...testSession({ id }), version: 3 })],
    ["a document of another session", () => JSON.stringify(testSession())],
    ["a schema violation", (id) => JSON.stringify({ ...testSession({ id }), messages: "none" })],
    ["an empty file", () => ""],
  ];
  for (const [label, content] of cases) {
    it(`a file holding ${label} is reported by name, quarantined, and the rest keeps working`, () =>
      withStore(async (store, dir, warnings) => {
        const good = await store.commit({ session: testSession(), expectedRevision: null });
        const bad = testId();
        await writeFile(join(dir, "sessions", `${bad}.json`), content(bad));
        assert.equal(await store.get(bad), undefined);
        assert.equal(warnings.length, 1, warnings.join("\n"));
        const warning = warnings[0] ?? "";
        assert.ok(!warning.includes("\n"), "one line");
        assert.ok(warning.startsWith(`sessions/${bad}.json: corrupt session file (`), warning);
        assert.ok(warning.endsWith(`; moved to sessions/quarantine/${bad}.json`), warning);
        assert.ok(await exists(join(dir, "sessions", "quarantine", `${bad}.json`)));
        assert.ok(!(await exists(join(dir, "sessions", `${bad}.json`))));
        assert.deepEqual(
          (await store.list()).items.map((i) => i.id),
          [good.id],
        );
        assert.equal((await store.get(good.id))?.session.revision, 1);
      }));
  }

  it("a corrupt file met while listing is quarantined and the others are listed", () =>
    withStore(async (store, dir, warnings) => {
      const good = await store.commit({ session: testSession(), expectedRevision: null });
      await store.list();
      const bad = testId();
      await writeFile(join(dir, "sessions", `${bad}.json`), "{");
      assert.deepEqual(
        (await store.list()).items.map((i) => i.id),
        [good.id],
      );
      assert.equal(warnings.length, 1);
      assert.ok(await exists(join(dir, "sessions", "quarantine", `${bad}.json`)));
    }));

  it("a second corrupt file of the same name gets its own quarantine name", () =>
    withStore(async (store, dir, warnings) => {
      const bad = testId();
      for (const text of ["first", "second"]) {
        await writeFile(join(dir, "sessions", `${bad}.json`), text);
        assert.equal(await store.get(bad), undefined);
      }
      const kept = await readdir(join(dir, "sessions", "quarantine"));
      assert.equal(kept.length, 2);
      const contents = await Promise.all(kept.map((n) => readFile(join(dir, "sessions", "quarantine", n), "utf8")));
      assert.deepEqual(contents.sort(), ["first", "second"]);
      assert.match(warnings[1] ?? "", new RegExp(`moved to sessions/quarantine/${bad}\\.json\\.`));
    }));

  it("creating a session over a corrupt file moves the corrupt one aside first", () =>
    withStore(async (store, dir, warnings) => {
      const doc = testSession();
      await writeFile(join(dir, "sessions", `${doc.id}.json`), "garbage");
      assert.equal((await store.commit({ session: doc, expectedRevision: null })).revision, 1);
      assert.equal(warnings.length, 1);
      assert.equal(await readFile(join(dir, "sessions", "quarantine", `${doc.id}.json`), "utf8"), "garbage");
    }));

  it("a symlink in place of a document is not followed", () =>
    withStore(async (store, dir, warnings) => {
      const secret = join(dir, "secret.json");
      const doc = testSession();
      await writeFile(secret, JSON.stringify({ ...doc, revision: 1 }));
      await symlink(secret, join(dir, "sessions", `${doc.id}.json`));
      assert.equal(await store.get(doc.id), undefined);
      assert.equal(warnings.length, 1);
      assert.equal((await store.commit({ session: doc, expectedRevision: null })).revision, 1);
      assert.deepEqual(JSON.parse(await readFile(secret, "utf8")), { ...doc, revision: 1 }, "the link target is untouched");
    }));

  it("a FIFO in place of a document is quarantined instead of hanging the store", () =>
    withStore(async (store, dir, warnings) => {
      const { execFileSync } = await import("node:child_process");
      const id = testId();
      execFileSync("mkfifo", [join(dir, "sessions", `${id}.json`)]);
      assert.equal(await store.get(id), undefined);
      assert.equal((await store.list()).total, 0);
      assert.match(warnings[0] ?? "", /not a regular file/);
      assert.equal((await store.commit({ session: testSession({ id }), expectedRevision: null })).revision, 1);
    }));
});

/** Resolves once the lock file at `path` is gone: a lease is given back after its idle time (1 s); fails after 5 s. */
async function givenBack(path: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (await exists(path)) {
    if (Date.now() > deadline) assert.fail(`${path} was not given back within 5 s`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("file store locks", () => {
  it("a held lock names its holder and is removed on release", () =>
    withStore(async (store, dir) => {
      const id = testId();
      await store.withLock(id, async () => {
        const info = JSON.parse(await readFile(lockFile(dir, id), "utf8"));
        assert.equal(info.pid, process.pid);
        assert.equal(info.hostname, hostname());
        assert.ok(!Number.isNaN(Date.parse(info.createdAt)));
      });
      await givenBack(lockFile(dir, id));
    }));

  it("back-to-back operations keep one lock file, given back after a short idle time", () =>
    withStore(async (store, dir) => {
      const id = testId();
      const inos: number[] = [];
      for (let i = 0; i < 5; i++) await store.withLock(id, async () => inos.push((await stat(lockFile(dir, id))).ino));
      assert.equal(new Set(inos).size, 1, "the lock file was recreated between operations");
      assert.ok(await exists(lockFile(dir, id)), "leased between operations");
      await givenBack(lockFile(dir, id));
    }));

  it("a leased lock is given back at once when another store instance waits for it", () =>
    withStore(async (store, dir) => {
      const id = testId();
      const other = await openFileStore({ dir, warn: (m) => assert.fail(m), lockTimeoutMs: 2_000 });
      try {
        // Keep the lease busy: each operation ends with the next one queued.
        let stop = false;
        let leased!: () => void;
        const holding = new Promise<void>((resolve) => (leased = resolve));
        const busy = (async () => {
          while (!stop)
            await store.withLock(id, () => {
              leased();
              return new Promise<void>((r) => setTimeout(r, 2));
            });
        })();
        let waited: number;
        try {
          await holding;
          const started = Date.now();
          assert.equal(await other.withLock(id, async () => "other"), "other");
          waited = Date.now() - started;
        } finally {
          stop = true;
          await busy;
        }
        assert.ok(waited < 1_000, `the waiter got the lock after ${waited} ms`);
        // The holder learnt of the waiter from the store-wide marker first, then from the lock's own (removed once served).
        assert.ok(await exists(join(dir, "sessions", "any.lock.want")));
        assert.ok(!(await exists(join(dir, "sessions", `${id}.lock.want`))));
      } finally {
        await other.close();
      }
    }));

  it("a lock left by a dead process is recovered at once", () =>
    withStore(async (store, dir) => {
      const id = testId();
      await plantLock(dir, id, await deadPid());
      const started = Date.now();
      assert.equal(await store.withLock(id, async () => "got it"), "got it");
      assert.ok(Date.now() - started < 1000, `took ${Date.now() - started} ms`);
      await givenBack(lockFile(dir, id));
    }));

  it("an abandoned breaker does not stop a dead process's lock from being recovered", () =>
    withStore(async (store, dir) => {
      const id = testId();
      await plantLock(dir, id, await deadPid());
      const breaker = join(dir, "sessions", `${id}.lock.break`);
      await mkdir(breaker);
      await age(breaker, 60_000);
      assert.equal(await store.withLock(id, async () => 1), 1);
    }));

  it("a lock held by a live process times out with LOCK_TIMEOUT naming that process", () =>
    withStore(
      async (store, dir) => {
        const holder = livePid();
        try {
          const id = testId();
          await plantLock(dir, id, holder.pid);
          let ran = false;
          await assert.rejects(
            store.withLock(id, async () => {
              ran = true;
            }),
            (err: Error & { code?: string }) => {
              assert.equal(err.code, "LOCK_TIMEOUT");
              assert.match(err.message, new RegExp(`session ${id} is locked by process ${holder.pid} since 2025-01-01T00:00:00.000Z; retry, or run`));
              return true;
            },
          );
          assert.equal(ran, false);
          assert.ok(await exists(lockFile(dir, id)), "a live process's lock is never removed");
        } finally {
          holder.stop();
        }
      },
      { lockTimeoutMs: 150 },
    ));

  it("a lock not refreshed for staleLockMs is broken even when its pid looks alive", () =>
    withStore(
      async (store, dir) => {
        const id = testId();
        await plantLock(dir, id, process.pid);
        await age(lockFile(dir, id), 5_000);
        assert.equal(await store.withLock(id, async () => "recovered"), "recovered");
      },
      { staleLockMs: 1_000, lockTimeoutMs: 3_000 },
    ));

  it("a lock from another host is honoured until it goes stale", () =>
    withStore(
      async (store, dir) => {
        const id = testId();
        await plantLock(dir, id, 1, "some-other-host");
        await assert.rejects(
          store.withLock(id, async () => undefined),
          /locked by process 1 on some-other-host/,
        );
        await age(lockFile(dir, id), 10_000);
        assert.equal(await store.withLock(id, async () => "ok"), "ok");
      },
      { staleLockMs: 5_000, lockTimeoutMs: 100 },
    ));

  it("a long-held lock is kept fresh, so waiters do not break it as stale", () =>
    withStore(
      async (holder, dir) => {
        const waiter = await openFileStore({ dir, warn: () => {}, staleLockMs: 1_000, lockTimeoutMs: 10_000 });
        const id = testId();
        const order: string[] = [];
        let entered!: () => void;
        const inside = new Promise<void>((resolve) => (entered = resolve));
        const first = holder.withLock(id, async () => {
          entered();
          order.push("holder in");
          // Hold for twice the stale age: only the heartbeat keeps the lock from looking abandoned.
          await new Promise((resolve) => setTimeout(resolve, 2_000));
          order.push("holder out");
        });
        await inside;
        await waiter.withLock(id, async () => {
          order.push("waiter");
        });
        await first;
        assert.deepEqual(order, ["holder in", "holder out", "waiter"]);
      },
      { staleLockMs: 1_000 },
    ));

  it("a lock replaced by someone else while held is left alone on release", () =>
    withStore(async (store, dir) => {
      const id = testId();
      await store.withLock(id, async () => {
        await writeFile(lockFile(dir, id), JSON.stringify({ pid: 1, hostname: "elsewhere", createdAt: new Date().toISOString() }));
      });
      assert.equal(JSON.parse(await readFile(lockFile(dir, id), "utf8")).hostname, "elsewhere");
    }));

  it("a leased lock is looked at again after the process stalled past its refreshes: one broken and taken meanwhile is not written under", () =>
    withStore(
      async (store, dir) => {
        const id = testId();
        await store.withLock(id, async () => undefined);
        assert.ok(await exists(lockFile(dir, id)), "leased after the operation");
        // The event loop stalls past staleLockMs (no refresh lands), and meanwhile another host breaks the lock and takes it.
        const until = Date.now() + 400;
        while (Date.now() < until) {
          // Busy: a stalled process.
        }
        unlinkSync(lockFile(dir, id));
        writeFileSync(lockFile(dir, id), JSON.stringify({ pid: 1, hostname: "some-other-host", createdAt: new Date().toISOString() }));
        let ran = false;
        await assert.rejects(
          store.withLock(id, async () => {
            ran = true;
          }),
          /locked by process 1 on some-other-host/,
        );
        assert.equal(ran, false, "the stalled lease was reused although its file is someone else's");
      },
      { staleLockMs: 300, lockTimeoutMs: 150 },
    ));
});

describe("file store maintenance", () => {
  it("maintain removes abandoned temp files, stale locks and breakers, and keeps what may be in use", () =>
    withStore(async (store, dir) => {
      const sessions = join(dir, "sessions");
      const doc = await store.commit({ session: testSession(), expectedRevision: null });
      const oldTmp = join(sessions, `.${doc.id}.999.abcdef.tmp`);
      const freshTmp = join(sessions, `.${doc.id}.999.123456.tmp`);
      await writeFile(oldTmp, "partial");
      await writeFile(freshTmp, "in progress");
      await age(oldTmp, 120_000);
      const deadId = testId();
      await plantLock(dir, deadId, await deadPid());
      const breaker = join(sessions, `${testId()}.lock.break`);
      await mkdir(breaker);
      await age(breaker, 120_000);
      // Waiters' markers, the lock's own and the store-wide one, left by waiters that died long ago.
      const oldWants = [join(sessions, `${testId()}.lock.want`), join(sessions, "any.lock.want")];
      for (const want of oldWants) {
        await writeFile(want, "");
        await age(want, 120_000);
      }
      const holder = livePid();
      try {
        const liveId = testId();
        await plantLock(dir, liveId, holder.pid);

        const dry = await store.maintain({ dryRun: true });
        assert.deepEqual(dry, { leftoversRemoved: 5, indexRebuilt: false, quarantined: [] });
        assert.ok(await exists(oldTmp), "dry run changes nothing");

        const report = await store.maintain();
        assert.deepEqual(report, { leftoversRemoved: 5, indexRebuilt: true, quarantined: [] });
        for (const want of oldWants) assert.ok(!(await exists(want)), want);
        assert.ok(!(await exists(oldTmp)));
        assert.ok(await exists(freshTmp));
        assert.ok(!(await exists(lockFile(dir, deadId))));
        assert.ok(!(await exists(breaker)));
        assert.ok(await exists(lockFile(dir, liveId)));
      } finally {
        holder.stop();
      }
    }));

  it("maintain rebuilds the index from the documents and quarantines corrupt ones", () =>
    withStore(async (store, dir, warnings) => {
      const good = await store.commit({ session: testSession(), expectedRevision: null });
      const bad = testId();
      await writeFile(join(dir, "sessions", `${bad}.json`), "[1,2");
      await writeFile(join(dir, "sessions", "index.json"), JSON.stringify({ version: 1, entries: [] }));
      const dry = await store.maintain({ dryRun: true });
      assert.deepEqual(dry.quarantined, [`${bad}.json`]);
      assert.ok(await exists(join(dir, "sessions", `${bad}.json`)));
      assert.equal(warnings.length, 0);
      const report = await store.maintain();
      assert.deepEqual(report.quarantined, [`${bad}.json`]);
      assert.equal(warnings.length, 1);
      const snapshot = JSON.parse(await readFile(join(dir, "sessions", "index.json"), "utf8"));
      assert.deepEqual(
        snapshot.entries.map((e: { id: string }) => e.id),
        [good.id],
      );
    }));
});

describe("file store storage failures", () => {
  /** Runs test/helpers/store-failing-writer.ts in `mode` under a 256 KiB file-size limit; returns what it printed. */
  const failingWriter = async (dir: string, mode: string): Promise<{ id: string; error?: { code: string; message: string }; revision?: number; messages?: number; leftovers: string[] }> => {
    const { spawnSync } = await import("node:child_process");
    const { fileURLToPath } = await import("node:url");
    const script = fileURLToPath(new URL("../helpers/store-failing-writer.ts", import.meta.url));
    const root = fileURLToPath(new URL("../../", import.meta.url));
    // ulimit -f caps file size in KiB: the small writes fit, the 1 MB one cannot.
    const run = spawnSync("bash", ["-c", 'ulimit -f 256; exec "$0" --import tsx "$1" "$2" "$3"', process.execPath, script, dir, mode], { cwd: root, encoding: "utf8" });
    assert.equal(run.status, 0, run.stderr);
    return JSON.parse(run.stdout);
  };

  it("a save that fails mid-write (file too large, like a full disk) is a one-line STORAGE error and the old document stays", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const seen = await failingWriter(dir, "save");
      assert.equal(seen.error?.code, "STORAGE");
      // The message file is written first, then the header.
      assert.match(seen.error?.message ?? "", new RegExp(`^cannot write .*sessions/${seen.id}(\\.json|\\.\\d+\\.jsonl): EFBIG$`));
      assert.equal(seen.revision, 1);
      assert.equal(seen.messages, 3);
      assert.deepEqual(seen.leftovers, []);
    } finally {
      await cleanup();
    }
  });

  it("a fold whose document write fails after the log append leaves every message readable, each once", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const seen = await failingWriter(dir, "fold");
      assert.equal(seen.error?.code, "STORAGE");
      assert.equal(seen.revision, 1, "the document was not replaced");
      const store = await openFileStore({ dir, warn: (m) => assert.fail(m) });
      const doc = (await store.get(seen.id))?.session ?? assert.fail("session missing");
      const logged = await store.readPruned(seen.id);
      // The folded messages are in the log (written first) and still in the document.
      assert.deepEqual(
        logged.map((m) => m.content),
        ["one", "two"],
      );
      assert.deepEqual(
        doc.messages.map((m) => m.content),
        ["one", "two", "three"],
      );
      // Retrying the fold logs the same ids again; the log keeps each once.
      const [a, b, c] = doc.messages;
      assert.ok(a !== undefined && b !== undefined && c !== undefined);
      await store.commit({ session: { ...doc, messages: [c], prunedCount: 2 }, expectedRevision: 1, pruned: { append: [a, b] }, reason: "compacted" });
      assert.deepEqual(
        (await store.readPruned(seen.id)).map((m) => m.content),
        ["one", "two"],
      );
      assert.equal((await readFile(join(dir, "sessions", `${seen.id}.pruned.jsonl`), "utf8")).trim().split("\n").length, 4, "the duplicates are on disk but read once");
    } finally {
      await cleanup();
    }
  });

  it("a replace whose log write fails after the document keeps the previous log whole", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const seen = await failingWriter(dir, "replace");
      assert.equal(seen.error?.code, "STORAGE");
      assert.match(seen.error?.message ?? "", /pruned\.jsonl: EFBIG$/);
      // The document went first and is saved; the index knows it.
      assert.equal(seen.revision, 3);
      assert.equal(seen.messages, 0);
      assert.deepEqual(seen.leftovers, []);
      const store = await openFileStore({ dir, warn: (m) => assert.fail(m) });
      assert.deepEqual(
        (await store.readPruned(seen.id)).map((m) => m.content),
        ["old pruned"],
      );
      assert.equal((await store.list()).items[0]?.revision, 3);
    } finally {
      await cleanup();
    }
  });
});
