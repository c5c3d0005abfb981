import assert from "node:assert/strict";
import { describe, it } from "node:test";
import pg from "pg";
import { MIGRATIONS } from "../../src/store/postgres/_migrations.js";
import { openPostgresStore } from "../../src/store/postgres/postgres-store.js";
import type { Session } from "../../src/session/types.js";
import type { SessionStore, StoreStats } from "../../src/store/store.js";
import { withPostgresDatabase, type PostgresTestDatabase } from "../helpers/postgres.js";
import { testMessage, testSession } from "../helpers/store-sessions.js";

const db = await withPostgresDatabase();

const CUTOFF = "2025-01-02T09:30:00.000Z";

const schemaOf = (url: string): string => new URL(url).searchParams.get("schema") as string;

/** What a full scan says: the counts every total and stats() must match. */
async function scanned(db: PostgresTestDatabase, schema: string, cutoff: string | null): Promise<StoreStats & { notArchived: number; groups: number }> {
  const rows = await db.admin<{ status: keyof StoreStats["byStatus"]; kind: keyof StoreStats["byKind"]; n: number }>(
    `SELECT CASE WHEN status IN ('created', 'active') AND $1::bigint IS NOT NULL AND last_activity_ms < $1::bigint THEN 'expired' ELSE status END AS status, kind, count(*)::int AS n
     FROM ${schema}.sessions GROUP BY 1, 2`,
    [cutoff === null ? null : Date.parse(cutoff)],
  );
  const s = { total: 0, byStatus: { created: 0, active: 0, expired: 0, archived: 0 }, byKind: { dm: 0, group: 0, isolated: 0 }, notArchived: 0, groups: 0 };
  for (const r of rows) {
    s.total += r.n;
    s.byStatus[r.status] += r.n;
    s.byKind[r.kind] += r.n;
    if (r.status !== "archived") s.notArchived += r.n;
    if (r.kind === "group") s.groups += r.n;
  }
  return s;
}

/** The counter-backed answers (list totals, stats) equal a full scan, with and without an expiry cutoff. */
async function assertCountsExact(store: SessionStore, schema: string): Promise<void> {
  for (const cutoff of [null, CUTOFF]) {
    const want = await scanned(db as PostgresTestDatabase, schema, cutoff);
    const { notArchived, groups, ...stats } = want;
    assert.deepEqual(await store.stats(cutoff), stats);
    assert.equal((await store.list({ statuses: ["created", "active", "expired"], expiryCutoff: cutoff, limit: 1 })).total, notArchived);
    assert.equal((await store.list({ expiryCutoff: cutoff, limit: 1 })).total, want.total);
    assert.equal((await store.list({ kinds: ["group"], expiryCutoff: cutoff, limit: 1 })).total, groups);
    assert.equal((await store.list({ statuses: ["archived"], limit: 1 })).total, want.byStatus.archived);
    // A filter the counters cannot answer still counts exactly.
    assert.equal((await store.list({ statuses: ["active"], expiryCutoff: cutoff, limit: 1 })).total, want.byStatus.active);
  }
}

const create = (store: SessionStore, s: Session): Promise<Session> => store.commit({ session: s, expectedRevision: null });

async function setStatus(store: SessionStore, s: Session, status: Session["status"]): Promise<Session> {
  const at = "2025-01-02T11:00:00.000Z";
  return store.commit({
    session: { ...s, status, expiredAt: status === "expired" ? at : null, archivedAt: status === "archived" ? at : null, updatedAt: at },
    expectedRevision: s.revision,
  });
}

if ("skip" in db) describe("postgres session counters", { skip: db.skip }, () => {});
else
  describe("postgres session counters", () => {
    it("list totals and stats stay exact through creates, appends, status changes, imports and deletes", async () => {
      const url = db.freshSchemaUrl();
      const store = await openPostgresStore(url, { warn: () => {} });
      try {
        const schema = schemaOf(url);
        await assertCountsExact(store, schema);
        const made: Session[] = [];
        for (const kind of ["dm", "group", "isolated", "group"] as const) made.push(await create(store, testSession({ kind })));
        // One session last active long ago: stored live, expired at the cutoff.
        made.push(await create(store, testSession({ lastActivityAt: "2025-01-01T00:00:00.000Z", status: "active" })));
        await assertCountsExact(store, schema);
        const [a, b, c, d] = made as [Session, Session, Session, Session];
        const appended = await store.commit({ session: { ...a, status: "active", messages: [testMessage("hi")] }, expectedRevision: a.revision });
        await setStatus(store, b, "archived");
        const expired = await setStatus(store, c, "expired");
        await assertCountsExact(store, schema);
        await setStatus(store, expired, "archived");
        // An import replaces a session whole, here as another kind and status.
        await store.commit({ session: { ...appended, kind: "group", status: "archived", archivedAt: "2025-01-02T12:00:00.000Z" }, expectedRevision: appended.revision, pruned: { replace: [] } });
        assert.equal(await store.delete(d.id), true);
        await assertCountsExact(store, schema);
      } finally {
        await store.close();
      }
    });

    it("concurrent writers on several instances leave the counters exact", async () => {
      const url = db.freshSchemaUrl();
      const stores = await Promise.all([1, 2, 3].map(() => openPostgresStore(url, { warn: () => {}, poolMax: 4 })));
      try {
        await Promise.all(
          stores.map(async (store, w) => {
            for (let i = 0; i < 15; i++) {
              const s = await create(store, testSession({ kind: i % 2 ? "group" : "dm" }));
              if (i % 3 === 0) await setStatus(store, s, "archived");
              else if (i % 5 === 0) await store.delete(s.id);
              else if (w === 1) await setStatus(store, s, "expired");
            }
          }),
        );
        await assertCountsExact(stores[0] as SessionStore, schemaOf(url));
      } finally {
        for (const s of stores) await s.close();
      }
    });

    it("a store created before the counters upgrades in place and counts what it already held", async () => {
      const url = db.freshSchemaUrl();
      const schema = schemaOf(url);
      const u = new URL(url);
      u.searchParams.delete("schema");
      const c = new pg.Client({ connectionString: u.toString(), options: `-c search_path=${schema}` });
      await c.connect();
      try {
        // The schema as the first release left it, with sessions written by bulk SQL.
        await c.query(`CREATE SCHEMA ${schema}`);
        await c.query(`CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
        const first = MIGRATIONS[0] ?? assert.fail("no migrations");
        for (const statement of first.statements) await c.query(statement);
        await c.query(`INSERT INTO schema_migrations (version, name) VALUES (1, $1)`, [first.name]);
        await c.query(
          `INSERT INTO sessions (id, key, kind, channel, status, created_at, updated_at, last_activity_at, last_activity_ms, revision, message_count, tokens, header, header_bytes, next_seq, message_bytes)
           SELECT md5(g::text), 'dm:x:' || g, (ARRAY['dm', 'group', 'isolated'])[g % 3 + 1], 'x', (ARRAY['created', 'active', 'expired', 'archived'])[g % 4 + 1],
             't', 't', 't', 1735776000000 + g * 60000, 1, 0, 0, '{}'::json, 2, 1, 0
           FROM generate_series(1, 200) g`,
        );
      } finally {
        await c.end();
      }
      const store = await openPostgresStore(url, { warn: () => {} });
      try {
        const versions = await db.admin<{ version: number }>(`SELECT version FROM ${schema}.schema_migrations ORDER BY version`);
        assert.deepEqual(
          versions.map((r) => r.version),
          MIGRATIONS.map((m) => m.version),
        );
        await assertCountsExact(store, schema);
        // Rows written by SQL outside the store (a bulk load, a TRUNCATE) are counted too.
        await db.admin(`DELETE FROM ${schema}.sessions WHERE kind = 'group'`);
        await assertCountsExact(store, schema);
        await db.admin(`TRUNCATE ${schema}.sessions`);
        await assertCountsExact(store, schema);
      } finally {
        await store.close();
      }
    });
  });
