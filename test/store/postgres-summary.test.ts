import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Session } from "../../src/session/types.js";
import { openPostgresStore } from "../../src/store/postgres/postgres-store.js";
import { withPostgresDatabase } from "../helpers/postgres.js";
import { appendTo, richSession, testMessage } from "../helpers/store-sessions.js";

const db = await withPostgresDatabase();

const schemaOf = (url: string): string => new URL(url).searchParams.get("schema") ?? assert.fail("no schema in the URL");

/** A summary of about 40 kB, as a long conversation's rolling summary is. */
function bigSummary(tag: string): NonNullable<Session["summary"]> {
  const lines = Array.from({ length: 400 }, (_, i) => `- [user] ${tag} fact ${i}: order PO-2025-${String(i).padStart(6, "0")} ships to Ghent on 2025-03-${String((i % 28) + 1).padStart(2, "0")}.`);
  return { text: `Summary ${tag}\n${lines.join("\n")}`, tokens: 9000, messageCount: 800, throughMessageId: "m-800", updatedAt: "2025-01-02T09:30:00.000Z", summarizer: "extractive" };
}

describe("postgres: the summary is stored apart from the header", { skip: "skip" in db ? db.skip : false }, () => {
  it("an append rewrites a small header and leaves the summary as it was; the document reads back whole with its exact size", async () => {
    if ("skip" in db) return;
    const url = db.freshSchemaUrl();
    const store = await openPostgresStore(url, { warn: () => {} });
    try {
      const doc = await store.commit({ session: { ...richSession(), summary: bigSummary("first") }, expectedRevision: null });
      const m = testMessage("one more");
      const appended = await appendTo(store, doc, [m]);
      const [row] = await db.admin<{ header_len: number; summary_len: number; inline: string }>(
        `SELECT octet_length(header::text) AS header_len, octet_length(summary::text) AS summary_len, json_typeof(header->'summary') AS inline FROM ${schemaOf(url)}.sessions WHERE id = $1`,
        [doc.id],
      );
      assert.equal(row?.inline, "null", "the header keeps only the summary's place");
      assert.ok((row?.header_len ?? Infinity) < 2000, `the header an append writes is small (${row?.header_len} bytes)`);
      assert.ok((row?.summary_len ?? 0) > 30_000);
      const loaded = await store.get(doc.id);
      assert.deepEqual(loaded?.session, appended);
      assert.equal(loaded?.sizeBytes, Buffer.byteLength(JSON.stringify(appended), "utf8"), "the size counts the summary once");
      // The document reads back in the order it was written: summary in its place.
      assert.deepEqual(Object.keys(loaded?.session ?? {}), Object.keys(appended));
    } finally {
      await store.close();
    }
  });

  it("a fold is one statement: the rows it keeps are not rewritten, and the document's and the pruned log's sizes stay exact", async () => {
    if ("skip" in db) return;
    const url = db.freshSchemaUrl();
    const store = await openPostgresStore(url, { warn: () => {} });
    try {
      let doc = await store.commit({ session: { ...richSession(), summary: bigSummary("before") }, expectedRevision: null });
      for (let i = 0; i < 6; i++) doc = await appendTo(store, doc, [testMessage(`m${i} ${"é".repeat(i)}`)]);
      const rows = async () => db.admin<{ seq: string; message_id: string }>(`SELECT seq, message_id FROM ${schemaOf(url)}.messages WHERE session_id = $1 ORDER BY seq`, [doc.id]);
      const before = await rows();
      const folded = doc.messages.slice(0, 3);
      const ids = new Set(folded.map((m) => m.id));
      const next: Session = { ...doc, summary: bigSummary("after"), messages: doc.messages.filter((m) => !ids.has(m.id)), prunedCount: doc.prunedCount + 3 };
      const saved = await store.commit({ session: next, expectedRevision: doc.revision, pruned: { append: folded }, reason: "compacted", folds: true });
      assert.deepEqual(
        await rows(),
        before.filter((r) => !ids.has(r.message_id)),
        "the kept rows keep their sequence numbers",
      );
      const loaded = await store.get(doc.id);
      assert.deepEqual(loaded?.session, saved);
      assert.equal(loaded?.sizeBytes, Buffer.byteLength(JSON.stringify(saved), "utf8"));
      const [bytes] = await db.admin<{ pruned_bytes: string; actual: string }>(
        `SELECT pruned_bytes, (SELECT sum(octet_length(doc::text)) FROM ${schemaOf(url)}.pruned WHERE session_id = $1) AS actual FROM ${schemaOf(url)}.sessions WHERE id = $1`,
        [doc.id],
      );
      assert.equal(bytes?.pruned_bytes, bytes?.actual);
      assert.deepEqual(await store.readPruned(doc.id), folded);
    } finally {
      await store.close();
    }
  });

  it("a header that still holds the summary (written before the summary had a column, or by an older version) wins, and the next append moves it", async () => {
    if ("skip" in db) return;
    const url = db.freshSchemaUrl();
    const table = `${schemaOf(url)}.sessions`;
    const store = await openPostgresStore(url, { warn: () => {} });
    try {
      const doc = await store.commit({ session: { ...richSession(), summary: bigSummary("stale") }, expectedRevision: null });
      // An older writer's commit: the whole document in the header, the summary column left as it was.
      const newer = { ...doc, summary: bigSummary("newer") };
      const header = JSON.stringify({ ...newer, messages: [] });
      await db.admin(`UPDATE ${table} SET header = $2::json, header_bytes = $3 WHERE id = $1`, [doc.id, header, Buffer.byteLength(header, "utf8")]);
      const before = await store.get(doc.id);
      assert.equal(before?.session.summary?.text, newer.summary.text, "the summary in the header wins over the column");
      assert.equal(before?.sizeBytes, Buffer.byteLength(JSON.stringify(newer), "utf8"));
      const m = testMessage("after the upgrade");
      const appended = await appendTo(store, newer, [m]);
      const [row] = await db.admin<{ inline: string }>(`SELECT json_typeof(header->'summary') AS inline FROM ${table} WHERE id = $1`, [doc.id]);
      assert.equal(row?.inline, "null", "the append moved the summary into its column");
      const after = await store.get(doc.id);
      assert.deepEqual(after?.session, appended);
      assert.equal(after?.session.summary?.text, newer.summary.text);
      assert.equal(after?.sizeBytes, Buffer.byteLength(JSON.stringify(appended), "utf8"));
    } finally {
      await store.close();
    }
  });
});
