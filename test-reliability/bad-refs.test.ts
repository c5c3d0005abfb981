import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { isOpenclawError } from "../src/errors.js";
import { SessionManager } from "../src/manager/manager.js";
import type { Inbound } from "../src/routing/route.js";
import { newSession } from "../src/session/new.js";
import { openFileStore } from "../src/store/file/file-store.js";
import { goodStore, hostile } from "./_corpus.js";
import { checksums, errorLine, runCli, tempDir } from "./_helpers.js";

const TEN_MB = 10 * 1024 * 1024;
/** An error about a hostile value must stay short however long the value is. */
const MAX_ERROR_CHARS = 400;
const printable = (v: string) => JSON.stringify(v).slice(0, 40);

/** Asserts `fn` fails with a one-line OpenclawError the user caused, free of control characters. */
async function refused(fn: () => Promise<unknown>, what: string): Promise<string> {
  try {
    await fn();
  } catch (err) {
    assert.ok(isOpenclawError(err), `${what}: not an OpenclawError: ${String(err)}`);
    assert.ok(err.userError, `${what}: reported as a system error: ${err.message}`);
    // eslint-style control-character check without a regex literal holding them.
    assert.ok(![...err.message].some((c) => c.charCodeAt(0) < 0x20), `${what}: control character in ${printable(err.message)}`);
    assert.ok(err.message.length <= MAX_ERROR_CHARS, `${what}: ${err.message.length}-character message`);
    return err.code;
  }
  assert.fail(`${what}: accepted`);
}

/** A sandbox with a good store, and a check that nothing under it changed. */
async function sandbox(fn: (stateDir: string, home: string, ids: string[]) => Promise<void>): Promise<void> {
  const { dir, cleanup } = await tempDir("bad-refs");
  try {
    const stateDir = join(dir, "state");
    const { ids } = await goodStore(stateDir);
    const before = await checksums(dir);
    await fn(stateDir, dir, ids);
    assert.deepEqual(await checksums(dir), before, "something was written");
  } finally {
    await cleanup();
  }
}

async function openManager(stateDir: string): Promise<SessionManager> {
  return SessionManager.open({ stateDir, config: {}, warn: (m) => assert.fail(`unexpected warning: ${m}`) });
}

describe("bad-input corpus: hostile ids, references and keys", () => {
  it("every hostile reference is refused by every manager operation with a short one-line error, writing nothing", () =>
    sandbox(async (stateDir) => {
      const m = await openManager(stateDir);
      for (const ref of hostile.refs) {
        const what = printable(ref);
        await refused(() => m.get(ref), `get ${what}`);
        await refused(() => m.record({ ref }, { role: "user", content: "x" }), `append ${what}`);
        await refused(() => m.delete(ref), `delete ${what}`);
        await refused(() => m.archive(ref), `archive ${what}`);
        await refused(() => m.unarchive(ref), `unarchive ${what}`);
        await refused(() => m.clear(ref), `clear ${what}`);
        await refused(() => m.setPreferences(ref, { a: 1 }), `set ${what}`);
        await refused(() => m.exportSessions([ref]), `export ${what}`);
        await refused(() => m.compact({ refs: [ref] }), `compact ${what}`);
        await refused(() => m.buildContext(ref), `context ${what}`);
      }
      await m.close();
    }));

  it("the file store refuses hostile ids before building any path", () =>
    sandbox(async (stateDir) => {
      const store = await openFileStore({ dir: stateDir, warn: (m) => assert.fail(m) });
      for (const ref of hostile.refs) {
        assert.equal(await refused(() => store.get(ref), `store.get ${printable(ref)}`), "INVALID_ID");
        const doc = { ...newSession({ id: "00000000-0000-7000-8000-000000000000", key: "dm:x:y", kind: "dm", channel: "x", now: new Date() }), id: ref };
        assert.equal(await refused(() => store.commit({ session: doc, expectedRevision: null }), `store.commit ${printable(ref)}`), "INVALID_ID");
        assert.equal(await refused(() => store.readPruned(ref), `store.readPruned ${printable(ref)}`), "INVALID_ID");
      }
    }));

  it("hostile routing keys and key segments are refused as INVALID_KEY or INVALID_ARGUMENT, creating no session", () =>
    sandbox(async (stateDir) => {
      const m = await openManager(stateDir);
      for (const key of hostile.keys) assert.equal(await refused(() => m.create({ key }), `create ${printable(key)}`), "INVALID_KEY");
      for (const seg of hostile.segments) {
        const inbounds: Inbound[] = [
          { channel: seg, senderId: "u1" },
          { channel: "good", senderId: seg },
          { channel: "good", senderId: "u1", groupId: seg },
          { channel: "good", senderId: "u1", threadId: seg },
          { channel: "good", senderId: "u1", isolated: seg },
        ];
        for (const inbound of inbounds) {
          const code = await refused(() => m.receive(inbound, "hello"), `receive ${JSON.stringify(inbound).slice(0, 80)}`);
          assert.ok(code === "INVALID_KEY" || code === "INVALID_ARGUMENT", code);
        }
        await refused(() => m.record({ ref: `dm:good:${seg}` }, { role: "user", content: "x" }), `append to key with ${printable(seg)}`);
        await refused(() => m.record({ ref: "dm:good:alice" }, { role: "user", content: "x", sender: seg }), `sender ${printable(seg)}`);
      }
      await m.close();
    }));

  it("the CLI answers hostile references and keys with one error line and no stack trace, writing nothing anywhere", () =>
    sandbox(async (stateDir, home) => {
      const cli = (args: string[]) => runCli(["--state-dir", stateDir, ...args], home);
      // NUL cannot travel in argv; those values are covered through the library above.
      for (const ref of hostile.refs.filter((r) => !r.includes("\u0000"))) {
        for (const args of [
          ["sessions", "show", ref],
          ["sessions", "append", "--session", ref, "hi"],
          ["sessions", "delete", ref],
          ["sessions", "export", ref],
        ]) {
          const line = errorLine(await cli(args));
          assert.ok(line.length <= MAX_ERROR_CHARS + 7, `${args.join(" ").slice(0, 60)}: ${line.length}-character error`);
          assert.doesNotMatch(line, /unexpected/);
        }
      }
      for (const seg of hostile.segments.filter((s) => !s.includes("\u0000"))) {
        for (const args of [
          ["--dm", `${seg}:u1`],
          ["--dm", `good:${seg}`],
          ["--group", `good:${seg}`, "--from", "u1"],
          ["--isolated", seg],
        ]) {
          const line = errorLine(await cli(["sessions", "append", ...args, "hello"]));
          assert.doesNotMatch(line, /unexpected/);
        }
      }
    }));
});

describe("bad-input corpus: a 10 MB message", () => {
  const big = "m".repeat(TEN_MB);

  it("is refused by the CLI with one line naming the limit, and nothing is written or created", () =>
    sandbox(async (stateDir, home, ids) => {
      const cli = (args: string[]) => runCli(["--state-dir", stateDir, ...args], home, big);
      for (const args of [
        ["sessions", "append", "--session", ids[0] ?? "", "-"],
        ["sessions", "append", "--dm", "big:u1", "-"],
      ]) {
        assert.match(errorLine(await cli(args)), /^error: message is 10485760 bytes, over the limit of 1048576 bytes \(sessions\.maxMessageBytes\); nothing was recorded$/);
      }
    }));

  it("is refused by manager.receive and by import, leaving no session behind", () =>
    sandbox(async (stateDir, home, ids) => {
      const m = await openManager(stateDir);
      assert.equal(await refused(() => m.receive({ channel: "big", senderId: "u1" }, big), "receive"), "MESSAGE_TOO_LARGE");
      const envelope = await m.exportSessions([ids[0] ?? ""]);
      const [s] = envelope.sessions;
      assert.ok(s !== undefined);
      const bigOne = { ...s, id: "01941e6a-0000-7000-8000-00000000b16b", key: "dm:big:u2", messages: s.messages.map((msg, i) => (i === 0 ? { ...msg, content: big } : msg)) };
      assert.equal(await refused(() => m.importSessions({ ...envelope, sessions: [bigOne] }), "import"), "MESSAGE_TOO_LARGE");
      await m.close();
      const outside = await tempDir("big-export");
      try {
        const file = join(outside.dir, "export.json");
        await writeFile(file, JSON.stringify({ ...envelope, sessions: [bigOne] }));
        assert.match(errorLine(await runCli(["--state-dir", stateDir, "sessions", "import", file], home)), /over the limit of 1048576 bytes \(sessions\.maxMessageBytes\); nothing was written$/);
      } finally {
        await outside.cleanup();
      }
    }));

  it("is stored and read back intact when the limit is raised, and the other sessions are untouched", async () => {
    const { dir, cleanup } = await tempDir("big-ok");
    try {
      const good = await goodStore(dir);
      const before = await good.sessionFiles();
      const m = await SessionManager.open({ stateDir: dir, config: { sessions: { maxMessageBytes: 16 * 1024 * 1024, maxMessageTokens: 4_000_000, contextWindow: 8_000_000 } }, warn: (w) => assert.fail(w) });
      const saved = await m.receive({ channel: "big", senderId: "u1" }, big);
      const back = (await m.get(saved.id)).messages[0]?.content ?? "";
      const digest = (t: string) => createHash("sha256").update(t).digest("hex");
      assert.equal(digest(back), digest(big));
      assert.equal((await m.list()).total, good.ids.length + 1);
      await m.close();
      assert.deepEqual(await good.sessionFiles(), before);
    } finally {
      await cleanup();
    }
  });
});
