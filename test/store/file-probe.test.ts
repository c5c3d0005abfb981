import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { it } from "node:test";
import { openFileStore } from "../../src/store/file/file-store.js";
import { appendTo, testMessage, testSession } from "../helpers/store-sessions.js";
import { tempDir } from "../helpers/store-tmp.js";

it("the search probe rules a session out only when it certainly holds no match", async (t) => {
  // The clock stands still unless the test moves it, so when the probe last looked at the log is known.
  t.mock.timers.enable({ apis: ["Date"], now: Date.now() });
  const { dir, cleanup } = await tempDir();
  const stores = [];
  try {
    const a = await openFileStore({ dir, warn: () => {}, checkpointMs: 600_000 });
    stores.push(a);
    const doc = await a.commit({ session: testSession({ messages: [testMessage("Order INV-4242 ships Friday")] }), expectedRevision: null, pruned: { append: [testMessage("the old ref was RSV-8812-ZT")] } });
    assert.equal(await a.mayContain(doc.id, "inv-4242", false), true, "case-insensitive, like search");
    assert.equal(await a.mayContain(doc.id, "INV-9999", false), false);
    assert.equal(await a.mayContain(doc.id, "RSV-8812", false), false, "the pruned history only when asked");
    assert.equal(await a.mayContain(doc.id, "RSV-8812", true), true);
    assert.equal(await a.mayContain(doc.id, 'say "hi"', false), true, "text a JSON escape could hide is never ruled out");

    // Appended by another process and still in its log, not yet in the document: not ruled out.
    const b = await openFileStore({ dir, warn: () => {}, checkpointMs: 600_000 });
    stores.push(b);
    const m = testMessage("new parcel 1Z999AA10123456784");
    await appendTo(b, doc, [m], { status: "active" });
    assert.doesNotMatch(await readFile(join(dir, "sessions", `${doc.id}.json`), "utf8"), /1Z999AA/, "the record is only in the log");
    // The log is looked at once per moment (100 ms): the clock moves past the last look instead of the test waiting.
    t.mock.timers.tick(150);
    assert.equal(await a.mayContain(doc.id, "1z999aa10123456784", false), true);

    // A document edited by hand with \u escapes is not trusted to the raw test.
    await b.close();
    stores.pop();
    const path = join(dir, "sessions", `${doc.id}.1.jsonl`);
    const text = await readFile(path, "utf8");
    assert.match(text, /Friday/, "the messages are in the message file");
    await writeFile(path, text.replace("Friday", "\\u0046riday"));
    const c = await openFileStore({ dir, warn: () => {} });
    stores.push(c);
    assert.equal(await c.mayContain(doc.id, "ships friday", false), true);
    assert.equal(await c.mayContain("0193b2c4-5d6e-7f80-9a1b-2c3d4e5f6a7b", "x", false), true, "a missing document is for the full read to report");
  } finally {
    for (const s of stores) await s.close();
    await cleanup();
  }
});
