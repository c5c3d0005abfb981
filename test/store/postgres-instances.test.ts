import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SessionManager } from "../../src/manager/manager.js";
import { openStore } from "../../src/store/open.js";
import { MIGRATIONS } from "../../src/store/postgres/_migrations.js";
import { openPostgresStore } from "../../src/store/postgres/postgres-store.js";
import type { SessionStore, StoreChange } from "../../src/store/store.js";
import { withPostgresDatabase, type PostgresTestDatabase } from "../helpers/postgres.js";
import { testMessage, testSession } from "../helpers/store-sessions.js";

const db = await withPostgresDatabase();

/** Runs `fn` with `n` store instances on one fresh schema, all closed afterwards. */
async function withInstances(db: PostgresTestDatabase, n: number, fn: (stores: SessionStore[], url: string) => Promise<void>): Promise<void> {
  const url = db.freshSchemaUrl();
  const stores = await Promise.all(Array.from({ length: n }, () => openPostgresStore(url, { warn: () => {}, poolMax: 4 })));
  try {
    await fn(stores, url);
  } finally {
    for (const s of stores) await s.close();
  }
}

if ("skip" in db) describe("postgres store across instances", { skip: db.skip }, () => {});
else
  describe("postgres store across instances", () => {
    it("instances opening a new schema together migrate it once", async () => {
      await withInstances(db, 6, async (_stores, url) => {
        const schema = new URL(url).searchParams.get("schema") as string;
        const rows = await db.admin<{ version: number }>(`SELECT version FROM ${schema}.schema_migrations ORDER BY version`);
        assert.deepEqual(
          rows.map((r) => r.version),
          MIGRATIONS.map((m) => m.version),
        );
        // A later open finds the schema current and changes nothing.
        const again = await openPostgresStore(url, { warn: () => {} });
        await again.close();
        assert.equal((await db.admin(`SELECT 1 FROM ${schema}.schema_migrations`)).length, MIGRATIONS.length);
      });
    });

    it("openStore dispatches postgres:// and postgresql:// to this backend, described without credentials", async () => {
      const url = new URL(db.freshSchemaUrl());
      for (const scheme of ["postgres:", "postgresql:"]) {
        const u = new URL(url);
        u.protocol = scheme;
        u.password = "not-needed-with-trust";
        const store = await openStore(u.toString(), { warn: () => {} });
        try {
          assert.equal(store.kind, "postgres");
          const d = await store.describe();
          assert.equal(d.backend, "postgres");
          assert.match(d.serverVersion ?? "", /^PostgreSQL \d+\.\d+/);
          assert.ok(!d.location.includes("not-needed") && !d.location.includes("postgres@"), d.location);
          assert.match(d.location, new RegExp(`${url.host}/${url.pathname.slice(1)}\\?schema=`));
        } finally {
          await store.close();
        }
      }
    });

    it("two instances appending to one session at once lose, duplicate and reorder nothing", async () => {
      await withInstances(db, 2, async ([a, b]) => {
        const managers = await Promise.all([a, b].map((s) => SessionManager.open({ store: s as SessionStore, config: { sessions: { maxHistoryLength: 10_000 } }, warn: () => {} })));
        try {
          const [ma, mb] = managers as [SessionManager, SessionManager];
          const s = await ma.create({ key: "dm:telegram:both" });
          await Promise.all([
            ...Array.from({ length: 60 }, (_, i) => ma.record({ ref: s.id }, { role: "user", content: `a:${i}` })),
            ...Array.from({ length: 60 }, (_, i) => mb.record({ ref: s.id }, { role: "user", content: `b:${i}` })),
          ]);
          const stored = (await (b as SessionStore).get(s.id))?.session ?? assert.fail("session vanished");
          const contents = stored.messages.map((m) => m.content);
          assert.equal(contents.length, 120);
          assert.equal(new Set(contents).size, 120);
          for (const w of ["a", "b"])
            assert.deepEqual(
              contents.filter((c) => c.startsWith(`${w}:`)),
              Array.from({ length: 60 }, (_, i) => `${w}:${i}`),
            );
          assert.equal(stored.revision, 121);
          assert.equal((await (a as SessionStore).list()).items[0]?.messageCount, 120);
        } finally {
          for (const m of managers) await m.close();
        }
      });
    });

    it("a retried append with one client id is stored once, whichever instance the retries reach", async () => {
      await withInstances(db, 3, async (stores) => {
        const managers = await Promise.all(stores.map((s) => SessionManager.open({ store: s, config: {}, warn: () => {} })));
        try {
          const s = await (managers[0] as SessionManager).create({ key: "dm:telegram:retry" });
          const results = await Promise.all(managers.flatMap((m) => [1, 2, 3].map(() => m.record({ ref: s.id }, { role: "user", content: "pay INV-7", clientMessageId: "msg-1" }))));
          assert.equal(results.filter((r) => !r.duplicate).length, 1);
          assert.equal(new Set(results.map((r) => r.message.id)).size, 1);
          assert.deepEqual(
            (await (stores[2] as SessionStore).get(s.id))?.session.messages.map((m) => m.clientId),
            ["msg-1"],
          );
        } finally {
          for (const m of managers) await m.close();
        }
      });
    });

    it("a watcher hears every other instance's changes, in order, and none of its own", async () => {
      await withInstances(db, 3, async ([a, b, c]) => {
        const [sb, sc] = [b, c] as [SessionStore, SessionStore];
        const wa = a ?? assert.fail("no first store");
        const seen: StoreChange[] = [];
        const stop = wa.watch((ch) => seen.push(ch));
        try {
          const own = await wa.commit({ session: testSession(), expectedRevision: null });
          const doc = await sb.commit({ session: testSession({ key: "dm:telegram:far" }), expectedRevision: null });
          await sc.commit({ session: { ...doc, status: "active", messages: [testMessage("x")] }, expectedRevision: 1 });
          await sb.commit({ session: { ...doc, status: "archived", archivedAt: "2025-01-03T00:00:00.000Z" }, expectedRevision: 2, reason: "archived" });
          await sc.delete(doc.id);
          const deadline = Date.now() + 5000;
          while (seen.length < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
          assert.deepEqual(
            seen.map((ch) => [ch.id, ch.key, ch.revision, ch.reason]),
            [
              [doc.id, "dm:telegram:far", 1, "created"],
              [doc.id, "dm:telegram:far", 2, "appended"],
              [doc.id, "dm:telegram:far", 3, "archived"],
              [doc.id, "dm:telegram:far", 0, "deleted"],
            ],
          );
          assert.ok(!seen.some((ch) => ch.id === own.id));
        } finally {
          stop();
        }
      });
    });

    it("find-or-create from several instances at once makes one live session for a key", async () => {
      await withInstances(db, 3, async (stores) => {
        const key = "dm:telegram:crowd";
        const routers = stores;
        const results = await Promise.all(routers.flatMap((s) => Array.from({ length: 5 }, () => s.findOrCreateLive(key, null, () => testSession({ key })))));
        assert.equal(new Set(results.map((r) => r.session.id)).size, 1);
        assert.equal(results.filter((r) => r.created).length, 1);
        assert.equal((await (stores[0] as SessionStore).list({ key })).total, 1);
      });
    });

    it("pruned history is kept once per id and follows the document across instances", async () => {
      await withInstances(db, 2, async ([a, b]) => {
        const sa = a as SessionStore;
        const sb = b as SessionStore;
        const [m1, m2] = [testMessage("one"), testMessage("two")];
        const doc = await sa.commit({ session: testSession({ messages: [m1, m2] }), expectedRevision: null });
        await sb.commit({ session: { ...doc, messages: [], prunedCount: 2 }, expectedRevision: 1, pruned: { append: [m1, m2, m1] }, reason: "compacted" });
        assert.deepEqual(
          (await sa.readPruned(doc.id)).map((m) => m.content),
          ["one", "two"],
        );
        assert.equal((await sa.get(doc.id))?.session.messages.length, 0);
      });
    });
  });
