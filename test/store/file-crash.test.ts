import assert from "node:assert/strict";
import { readdir, readFile, utimes } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { sessionSchema } from "../../src/session/schema.js";
import { openFileStore } from "../../src/store/file/file-store.js";
import { startAppender } from "../helpers/store-children.js";
import { testId } from "../helpers/store-sessions.js";
import { readOnDisk } from "../helpers/store-files.js";
import { tempDir } from "../helpers/store-tmp.js";

const KILLS = 24;
/** Makes each document write take a few milliseconds, so kills land inside writes. */
const BALLAST_BYTES = 2_000_000;

/** Reads the raw document and checks it is whole and valid; returns the numbers stored for `tag`. */
async function storedSequence(dir: string, id: string, tag: string): Promise<number[]> {
  const parsed = sessionSchema.safeParse((await readOnDisk(dir, id)).session);
  assert.ok(parsed.success, "the document on disk must always validate");
  return parsed.data.messages.filter((m) => m.content.startsWith(`${tag}:`)).map((m) => Number(m.content.slice(tag.length + 1)));
}

describe("file store under crashes and concurrent processes", () => {
  it(`a writer killed ${KILLS} times at random moments never loses an acknowledged save nor leaves a torn document`, async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const id = testId();
      const acked = new Set<number>();
      for (let round = 0; round < KILLS; round++) {
        const writer = startAppender(dir, id, "c", undefined, BALLAST_BYTES);
        await writer.acks(1);
        // Some rounds die right after an ack, others deep inside a later write.
        await delay(Math.floor(Math.random() * 25));
        writer.child.kill("SIGKILL");
        await writer.exited;
        assert.deepEqual(writer.stderr.join(""), "", "the writer reported a problem");
        for (const n of writer.acked) acked.add(n);
        const stored = await storedSequence(dir, id, "c");
        // Stored numbers are exactly 0..max in order: no loss, no duplicate, no reordering.
        assert.deepEqual(
          stored,
          Array.from({ length: stored.length }, (_, i) => i),
        );
        for (const n of acked) assert.ok(n < stored.length, `acknowledged save ${n} is missing after round ${round}`);
        for (const name of await readdir(join(dir, "sessions"))) {
          if (name.endsWith(".json")) JSON.parse(await readFile(join(dir, "sessions", name), "utf8"));
        }
      }
      const resumed = startAppender(dir, id, "c", Math.max(...acked) + 4, BALLAST_BYTES);
      assert.equal(await resumed.exited, 0, resumed.stderr.join(""));
      const stored = await storedSequence(dir, id, "c");
      assert.deepEqual(
        stored,
        Array.from({ length: Math.max(...acked) + 4 }, (_, i) => i),
      );

      // Interrupted writes may leave temp files; maintain removes them once they are old enough to be abandoned.
      const sessions = join(dir, "sessions");
      const old = new Date(Date.now() - 120_000);
      for (const name of await readdir(sessions)) if (name.endsWith(".tmp")) await utimes(join(sessions, name), old, old);
      const store = await openFileStore({ dir, warn: (m) => assert.fail(m) });
      const report = await store.maintain();
      assert.equal(report.indexRebuilt, true);
      assert.deepEqual(
        (await readdir(sessions)).filter((n) => n.endsWith(".tmp") || n.endsWith(".lock")),
        [],
      );
      const [item] = (await store.list()).items;
      assert.equal(item?.messageCount, stored.length);
    } finally {
      await cleanup();
    }
  });

  it("two processes appending 200 messages each to one session lose nothing and keep each writer's order", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const id = testId();
      const a = startAppender(dir, id, "a", 200);
      const b = startAppender(dir, id, "b", 200);
      assert.equal(await a.exited, 0, a.stderr.join(""));
      assert.equal(await b.exited, 0, b.stderr.join(""));
      const store = await openFileStore({ dir, warn: (m) => assert.fail(m) });
      const doc = (await store.get(id))?.session ?? assert.fail("session missing");
      assert.equal(doc.messages.length, 400);
      assert.equal(doc.revision, 400);
      assert.equal(new Set(doc.messages.map((m) => m.content)).size, 400);
      const range = Array.from({ length: 200 }, (_, i) => i);
      assert.deepEqual(await storedSequence(dir, id, "a"), range);
      assert.deepEqual(await storedSequence(dir, id, "b"), range);
      assert.equal((await store.list()).items[0]?.revision, 400);
    } finally {
      await cleanup();
    }
  });
});
