import assert from "node:assert/strict";
import { copyFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { isOpenclawError } from "../src/errors.js";
import { SessionManager } from "../src/manager/manager.js";
import { CORPUS, corpusFile, goodStore, manifest } from "./_corpus.js";
import { checksums, errorLine, runCli, tempDir } from "./_helpers.js";

/** A state dir with good sessions, and a check that nothing under it changed while `fn` ran. */
async function untouched(fn: (stateDir: string, home: string, ids: string[]) => Promise<void>, prepare?: (stateDir: string) => Promise<void>): Promise<void> {
  const { dir, cleanup } = await tempDir("bad-config");
  try {
    const stateDir = join(dir, "state");
    const { ids } = await goodStore(stateDir);
    await prepare?.(stateDir);
    const before = await checksums(dir);
    await fn(stateDir, dir, ids);
    assert.deepEqual(await checksums(dir), before, "something was written");
  } finally {
    await cleanup();
  }
}

describe("bad-input corpus: invalid config values", () => {
  for (const entry of manifest.config) {
    it(`${entry.file} stops every command with one line naming the file and the key, writing nothing`, () =>
      untouched(
        async (stateDir, home) => {
          for (const args of [["sessions", "list"], ["sessions", "append", "--dm", "good:alice", "hello"], ["status"], ["config", "validate"]]) {
            const line = errorLine(await runCli(["--state-dir", stateDir, ...args], home));
            assert.ok(line.startsWith(`error: ${entry.expect}`), `${args.join(" ")}: ${line}`);
          }
          // The library refuses the same file the same way.
          await assert.rejects(SessionManager.open({ stateDir, warn: () => undefined }), (err) => isOpenclawError(err) && /^CONFIG_(INVALID|PARSE)$/.test(err.code) && err.message.startsWith(entry.expect));
        },
        (stateDir) => copyFile(join(CORPUS, entry.file), join(stateDir, "config.json")),
      ));
  }

  it("an invalid config object handed to the library is refused as CONFIG_INVALID before the store is opened", () =>
    untouched(async (stateDir) => {
      for (const entry of manifest.config) {
        let value: unknown;
        try {
          value = JSON.parse(corpusFile(entry.file).toString("utf8"));
        } catch {
          continue;
        }
        await assert.rejects(SessionManager.open({ stateDir, config: value, warn: () => undefined }), (err) => isOpenclawError(err, "CONFIG_INVALID"), entry.file);
      }
    }));
});

describe("bad-input corpus: malformed import files", () => {
  for (const entry of manifest.import) {
    it(`${entry.file} is refused with one line naming the file and the problem, writing nothing`, () =>
      untouched(async (stateDir, home) => {
        const file = join(CORPUS, entry.file);
        const line = errorLine(await runCli(["--state-dir", stateDir, "sessions", "import", file], home));
        assert.ok(line.startsWith(`error: ${file}: `), line);
        assert.ok(line.includes(entry.expect), `${line} does not say ${entry.expect}`);
        const overwrite = errorLine(await runCli(["--state-dir", stateDir, "sessions", "import", "--overwrite", file], home));
        assert.equal(overwrite, line);
      }));
  }

  it("an import naming an existing session is refused whole without --overwrite, even when its other sessions are new", async () => {
    const outside = await tempDir("import-existing");
    try {
      await untouched(
        async (stateDir, home) => {
          const line = errorLine(await runCli(["--state-dir", stateDir, "sessions", "import", join(outside.dir, "export.json")], home));
          assert.match(line, /^error: cannot import: 1 session\(s\) already exist \(.+\); use --overwrite to replace them or --skip-existing to leave them\. Nothing was written$/);
        },
        async (stateDir) => {
          const m = await SessionManager.open({ stateDir, config: {}, warn: () => undefined });
          const envelope = await m.exportSessions("all");
          await m.close();
          const [first] = envelope.sessions;
          assert.ok(first !== undefined);
          const fresh = { ...first, id: "01941e6a-0000-7000-8000-00000000f00d", key: "dm:good:newcomer" };
          await writeFile(join(outside.dir, "export.json"), JSON.stringify({ ...envelope, sessions: [fresh, first] }));
        },
      );
    } finally {
      await outside.cleanup();
    }
  });
});
