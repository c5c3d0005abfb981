import assert from "node:assert/strict";
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, it } from "node:test";
import { openStore } from "../../src/store/open.js";
import { testSession } from "../helpers/store-sessions.js";
import { tempDir } from "../helpers/store-tmp.js";

describe("openStore", () => {
  it("memory: opens an empty in-memory store each time", async () => {
    const a = await openStore("memory:");
    assert.equal(a.kind, "memory");
    await a.commit({ session: testSession(), expectedRevision: null });
    assert.equal((await (await openStore("memory:")).list()).total, 0);
  });

  for (const [label, toUri] of [
    ["file:<dir>", (d: string) => `file:${d}`],
    ["file:///<dir>", (d: string) => pathToFileURL(d).href],
    ["a plain path", (d: string) => d],
  ] as const) {
    it(`${label} opens a ready file store on that directory`, async () => {
      const { dir, cleanup } = await tempDir();
      try {
        const state = join(dir, "state");
        const store = await openStore(toUri(state), { warn: () => {}, lockTimeoutMs: 500, watchIntervalMs: 20 });
        assert.equal(store.kind, "file");
        assert.ok((await stat(join(state, "sessions"))).isDirectory());
        const doc = await store.commit({ session: testSession(), expectedRevision: null });
        assert.ok((await stat(join(state, "sessions", `${doc.id}.json`))).isFile());
        await store.close();
      } finally {
        await cleanup();
      }
    });
  }

  it("an unknown scheme is refused with INVALID_ARGUMENT and credentials are not echoed", async () => {
    await assert.rejects(openStore("mysql://admin:hunter2@db.example/openclaw"), (err: Error & { code?: string }) => {
      assert.equal(err.code, "INVALID_ARGUMENT");
      assert.match(err.message, /unsupported store URI scheme "mysql:".*postgres:\/\//);
      assert.ok(!err.message.includes("hunter2"));
      return true;
    });
  });

  it("file: without a directory is refused", async () => {
    await assert.rejects(openStore("file:"), { code: "INVALID_ARGUMENT" });
  });
});
