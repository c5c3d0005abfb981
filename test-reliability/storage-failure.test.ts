import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { closeSync, openSync, writeSync } from "node:fs";
import { mkdir, readdir, rm, stat, truncate, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it, type TestContext } from "node:test";
import { isOpenclawError } from "../src/errors.js";
import { SessionManager } from "../src/manager/manager.js";
import { runChild } from "../test/helpers/cli-run.js";
import { checksums, CLI, errorLine, readStore, runCli, tempDir, type CliResult } from "./_helpers.js";

// Root ignores file modes, so a chmod-ed directory proves nothing here. A
// tiny tmpfs gives a real ENOSPC and a read-only remount a real EROFS; where
// mounting is not allowed those tests skip, and the injected failures below
// (a file-size limit, a file where the sessions directory should be) still run.
const MOUNT_UNAVAILABLE = probeMount();

function probeMount(): string | undefined {
  if (process.platform !== "linux") return "tmpfs mounts need Linux";
  if (process.getuid?.() !== 0) return "mounting a tmpfs needs root";
  const dir = join(process.env.TMPDIR ?? "/tmp", `openclaw-rel-mount-probe-${process.pid}`);
  spawnSync("mkdir", ["-p", dir]);
  const r = spawnSync("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", dir], { encoding: "utf8" });
  if (r.status === 0) spawnSync("umount", [dir]);
  spawnSync("rmdir", [dir]);
  return r.status === 0 ? undefined : `mount -t tmpfs is not permitted here (${(r.stderr || String(r.error)).trim()})`;
}

/** Runs `fn` with a state dir on a fresh tmpfs of `sizeKiB`, unmounted afterwards. */
async function onTmpfs(t: TestContext, sizeKiB: number, fn: (mount: string, stateDir: string) => Promise<void>): Promise<void> {
  if (MOUNT_UNAVAILABLE !== undefined) {
    t.skip(MOUNT_UNAVAILABLE);
    return;
  }
  const { dir, cleanup } = await tempDir("tmpfs");
  const mounted = spawnSync("mount", ["-t", "tmpfs", "-o", `size=${sizeKiB}k,mode=0700`, "tmpfs", dir], { encoding: "utf8" });
  assert.equal(mounted.status, 0, mounted.stderr);
  try {
    await fn(dir, join(dir, "state"));
  } finally {
    spawnSync("umount", ["-l", dir]);
    await cleanup();
  }
}

/** A session with a little history, written through the library; returns its id. */
async function seed(stateDir: string): Promise<string> {
  const m = await SessionManager.open({ stateDir, config: {}, warn: (w) => assert.fail(w) });
  const s = await m.receive({ channel: "disk", senderId: "u1" }, "first message, ref INV-1");
  await m.record({ ref: s.id }, { role: "assistant", content: "first answer" });
  await m.close();
  return s.id;
}

/** Fills the filesystem holding `path` until ENOSPC. */
function fill(path: string): void {
  const fd = openSync(path, "w");
  const chunk = Buffer.alloc(4096, 0x66);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (err) {
    assert.equal((err as NodeJS.ErrnoException).code, "ENOSPC");
  } finally {
    closeSync(fd);
  }
}

/** The library's view of the same failure: a STORAGE error the system (not the user) caused, on one line. */
async function libraryRefuses(stateDir: string, id: string, content: string, errno: string): Promise<void> {
  const m = await SessionManager.open({ stateDir, config: {}, warn: () => undefined });
  try {
    await assert.rejects(m.record({ ref: id }, { role: "user", content }), (err) => {
      assert.ok(isOpenclawError(err, "STORAGE"), String(err));
      assert.equal(err.userError, false);
      assert.ok(!err.message.includes("\n") && err.message.includes(errno), err.message);
      return true;
    });
  } finally {
    await m.close();
  }
}

/** The session still holds exactly its history, validates, and nothing was left behind. */
async function intact(stateDir: string, id: string, contents: string[]): Promise<void> {
  const view = await readStore(stateDir);
  assert.deepEqual(view.warnings, []);
  assert.deepEqual(
    view.sessions.find((s) => s.id === id)?.messages.map((m) => m.content),
    contents,
  );
  assert.deepEqual(
    (await readdir(join(stateDir, "sessions"))).filter((n) => n.endsWith(".tmp") || n.endsWith(".lock")),
    [],
  );
}

const FULL = /^error: cannot (write|write lock|create lock|append to) \S+: ENOSPC \(disk full: free space and retry; the previous state is intact\)$/;
const READ_ONLY = /^error: cannot [a-z ]+ \S+: EROFS \(permission denied or read-only: check the state directory; the previous state is intact\)$/;

describe("storage failures: disk full and read-only", () => {
  it("a completely full disk refuses an append with one STORAGE line saying so; the session is unchanged and takes the message once space is freed", (t) =>
    onTmpfs(t, 1024, async (mount, stateDir) => {
      const id = await seed(stateDir);
      fill(join(mount, "filler"));
      const before = await checksums(stateDir);
      assert.match(errorLine(await runCli(["--state-dir", stateDir, "sessions", "append", "--session", id, "x".repeat(3000)], mount)), FULL);
      await libraryRefuses(stateDir, id, "y".repeat(3000), "ENOSPC");
      assert.deepEqual(await checksums(stateDir), before);
      await rm(join(mount, "filler"));
      const ok = await runCli(["--state-dir", stateDir, "sessions", "append", "--session", id, "after freeing space"], mount);
      assert.equal(ok.code, 0, ok.stderr);
      await intact(stateDir, id, ["first message, ref INV-1", "first answer", "after freeing space"]);
    }));

  it("a nearly full disk fails the append's log write itself, keeping the previous document and leaving no temp file or segment", (t) =>
    onTmpfs(t, 1024, async (mount, stateDir) => {
      const id = await seed(stateDir);
      fill(join(mount, "filler"));
      // Room for the lock and the index, not for the new document.
      await truncateBy(join(mount, "filler"), 16 * 1024);
      const before = await checksums(stateDir);
      const line = errorLine(await runCli(["--state-dir", stateDir, "sessions", "append", "--session", id, "-"], mount, "word ".repeat(40_000)));
      assert.match(line, FULL);
      // An append is a log record: the segment is the file that could not be written.
      assert.match(line, /sessions\/log\/\S+\.log: ENOSPC/);
      assert.deepEqual(await checksums(stateDir), before);
      await intact(stateDir, id, ["first message, ref INV-1", "first answer"]);
    }));

  it("a read-only state dir refuses every write with one STORAGE line saying so, still shows sessions, and keeps every file", (t) =>
    onTmpfs(t, 1024, async (mount, stateDir) => {
      const id = await seed(stateDir);
      const before = await checksums(stateDir);
      assert.equal(spawnSync("mount", ["-o", "remount,ro", mount]).status, 0);
      const cli = (args: string[]): Promise<CliResult> => runCli(["--state-dir", stateDir, ...args], mount);
      for (const args of [
        ["sessions", "append", "--session", id, "hello"],
        ["sessions", "append", "--dm", "disk:u2", "hello"],
        ["sessions", "set", id, "--pref", "lang=fr"],
        ["sessions", "archive", id],
        ["sessions", "delete", id],
        ["sessions", "compact"],
      ]) {
        assert.match(errorLine(await cli(args)), READ_ONLY, args.join(" "));
      }
      const show = await cli(["sessions", "show", id, "--json"]);
      assert.equal(show.code, 0, show.stderr);
      assert.equal((JSON.parse(show.stdout) as { id: string }).id, id);
      // Listing loads the index under its lock file, which a read-only directory cannot hold: listing a read-only store is a known gap.
      const list = await cli(["sessions", "list"]);
      if (list.code !== 0) assert.match(errorLine(list), READ_ONLY);
      assert.deepEqual(await checksums(stateDir), before);
      assert.equal(spawnSync("mount", ["-o", "remount,rw", mount]).status, 0);
      assert.equal((await cli(["sessions", "append", "--session", id, "writable again"])).code, 0);
      await intact(stateDir, id, ["first message, ref INV-1", "first answer", "writable again"]);
    }));

  it("a file-size limit (EFBIG, injected with ulimit -f) refuses the append with one STORAGE line and keeps the previous document", async () => {
    const { dir, cleanup } = await tempDir("fsize");
    try {
      const stateDir = join(dir, "state");
      const id = await seed(stateDir);
      const before = await checksums(stateDir);
      // 64 KiB: the session, lock and index fit; a 200 kB message (within the token limit) does not.
      const r = await runShell(`ulimit -f 64 && exec "${process.execPath}" "${CLI}" --state-dir "${stateDir}" sessions append --session ${id} -`, "hello world ".repeat(17_000));
      assert.match(errorLine(r), /^error: cannot append to \S+\/sessions\/log\/\S+\.log: EFBIG$/);
      assert.deepEqual(await checksums(stateDir), before);
      await intact(stateDir, id, ["first message, ref INV-1", "first answer"]);
    } finally {
      await cleanup();
    }
  });

  it("a regular file where the sessions directory belongs gives one STORAGE line naming it and is left as it was", async () => {
    const { dir, cleanup } = await tempDir("notdir");
    try {
      const stateDir = join(dir, "state");
      await mkdir(stateDir);
      await writeFile(join(stateDir, "sessions"), "operator notes, not a directory\n");
      const before = await checksums(dir);
      for (const args of [["sessions", "list"], ["sessions", "append", "--dm", "disk:u1", "hello"], ["status"]]) {
        const line = errorLine(await runCli(["--state-dir", stateDir, ...args], dir));
        assert.match(line, /^error: cannot [a-z ]+ \S+\/sessions(\/\S*)?: (ENOTDIR|EEXIST)/, `${args.join(" ")}: ${line}`);
      }
      assert.deepEqual(await checksums(dir), before);
    } finally {
      await cleanup();
    }
  });
});

async function truncateBy(path: string, bytes: number): Promise<void> {
  const { size } = await stat(path);
  await truncate(path, Math.max(0, size - bytes));
}

function runShell(script: string, input: string): Promise<CliResult> {
  return runChild("/bin/sh", ["-c", script], { ...process.env, NO_COLOR: "1" }, input);
}
