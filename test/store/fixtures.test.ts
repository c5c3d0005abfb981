import assert from "node:assert/strict";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { sessionTokens } from "../../src/session/lifecycle.js";
import { parseStoredSession, sessionSchemaV1 } from "../../src/session/schema.js";
import { openFileStore } from "../../src/store/file/file-store.js";
import { tempDir } from "../helpers/store-tmp.js";

// Frozen, hand-written documents of past formats. Tests read them and never write them.
const FIXTURE = new URL("../fixtures/v1/session-basic.json", import.meta.url);
const FIXTURE_ID = "01939a6e-4c2b-7d3e-8f10-2a3b4c5d6e7f";

describe("frozen v1 fixture", () => {
  it("the v1 session document still validates, and reads back upgraded to the current format", async () => {
    const raw: unknown = JSON.parse(await readFile(FIXTURE, "utf8"));
    assert.ok(sessionSchemaV1.safeParse(raw).success, "the fixture is a valid version 1 document");
    const parsed = parseStoredSession(raw);
    assert.ok(parsed.success, parsed.success ? "" : JSON.stringify(parsed.error.issues));
    const s = parsed.data;
    assert.equal(s.version, 2);
    assert.equal(s.context.lastSummarizerErrorAt, null);
    assert.equal(s.id, FIXTURE_ID);
    assert.equal(s.revision, 7);
    assert.equal(s.systemPrompts.length, 1);
    assert.ok(s.summary?.text.includes("ABC123"));
    assert.equal(s.messages.filter((m) => m.pinned).length, 1);
    const call = s.messages.find((m) => m.toolCalls !== undefined)?.toolCalls?.[0];
    assert.equal(s.messages.find((m) => m.role === "tool")?.toolCallId, call?.id);
    assert.deepEqual(s.preferences.units, { temperature: "celsius", distance: "km" });
    assert.deepEqual(s.tools.deny, ["calendar.delete"]);
    assert.equal(sessionTokens(s), s.context.tokensInUse);
  });

  it("a file store reads (upgraded), lists and updates (as version 2) the v1 document placed in its directory", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const text = await readFile(FIXTURE, "utf8");
      await mkdir(join(dir, "sessions"), { recursive: true });
      await writeFile(join(dir, "sessions", `${FIXTURE_ID}.json`), text);
      const warnings: string[] = [];
      const store = await openFileStore({ dir, warn: (m) => warnings.push(m) });
      const loaded = await store.get(FIXTURE_ID);
      assert.ok(loaded);
      const v1 = JSON.parse(text);
      assert.deepEqual(loaded.session, { ...v1, version: 2, context: { ...v1.context, lastSummarizerErrorAt: null } });
      assert.equal(loaded.sizeBytes, Buffer.byteLength(text));
      // The pretty-printed v1 head is not the compact one, so this takes the full, upgrading read.
      assert.equal(await store.revisionOf(FIXTURE_ID), 7);
      const [item] = (await store.list()).items;
      assert.equal(item?.id, FIXTURE_ID);
      assert.equal(item?.revision, 7);
      assert.equal(item?.messageCount, 5);
      assert.equal(item?.tokens, 190);
      const saved = await store.commit({ session: { ...loaded.session, preferences: { ...loaded.session.preferences, verbose: true } }, expectedRevision: 7 });
      assert.equal(saved.revision, 8);
      assert.equal((await store.get(FIXTURE_ID))?.session.preferences.verbose, true);
      const written = await readFile(join(dir, "sessions", `${FIXTURE_ID}.json`), "utf8");
      assert.ok(written.startsWith(`{"version":2,"id":"${FIXTURE_ID}","revision":8,`), written.slice(0, 80));
      assert.equal(JSON.parse(written).context.lastSummarizerErrorAt, null);
      assert.deepEqual(warnings, []);
      assert.equal(await readFile(FIXTURE, "utf8"), text, "the fixture itself is never rewritten");
    } finally {
      await cleanup();
    }
  });
});
