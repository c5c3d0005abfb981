import assert from "node:assert/strict";
import { describe, it } from "node:test";
import pg from "pg";
import { isOpenclawError } from "../../src/errors.js";
import { openStore } from "../../src/store/open.js";
import { openPostgresStore } from "../../src/store/postgres/postgres-store.js";
import type { SessionStore, StoreChange } from "../../src/store/store.js";
import { withPostgresDatabase } from "../helpers/postgres.js";
import { appendTo, testMessage, testSession } from "../helpers/store-sessions.js";

const db = await withPostgresDatabase();

/** Asserts `p` rejects with `code` and a one-line message free of every secret; returns the message. */
async function failsCleanly(p: Promise<unknown>, code: string, secrets: string[]): Promise<string> {
  let message = "";
  await assert.rejects(p, (err: unknown) => {
    assert.ok(isOpenclawError(err), `expected an OpenclawError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    message = err.message;
    const everything = `${err.message} ${String(err.stack)} ${String((err.cause as Error | undefined)?.message)}`;
    for (const s of secrets) assert.ok(!everything.includes(s), `"${s}" appears in: ${everything}`);
    assert.ok(!message.includes("\n"), "one line");
    return true;
  });
  return message;
}

const waitFor = async (cond: () => Promise<boolean> | boolean, ms = 8000): Promise<void> => {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) assert.fail("timed out waiting");
    await new Promise((r) => setTimeout(r, 25));
  }
};

if ("skip" in db) describe("postgres store faults", { skip: db.skip }, () => {});
else
  describe("postgres store faults", () => {
    const server = new URL(db.url);

    it("an unreachable server is one clear error naming the host, never the user or password", async () => {
      const uri = "postgres://alice_admin:S3cret-Pa55@127.0.0.1:1/openclaw?sslmode=disable";
      const message = await failsCleanly(openStore(uri), "STORE_UNAVAILABLE", ["alice_admin", "S3cret-Pa55", "sslmode"]);
      assert.match(message, /127\.0\.0\.1:1\/openclaw.*unavailable/);
    });

    it("a refused login or a missing database is a clear error that quotes no credential", async () => {
      const badUser = new URL(db.url);
      badUser.username = "no_such_role_k7q";
      badUser.password = "Hunter2-Secret";
      await failsCleanly(openPostgresStore(badUser.toString(), {}), "STORE_UNAVAILABLE", ["no_such_role_k7q", "Hunter2-Secret"]);
      const noDb = new URL(db.url);
      noDb.pathname = "/openclaw_missing_db_x";
      noDb.password = "Hunter2-Secret";
      assert.match(await failsCleanly(openPostgresStore(noDb.toString(), {}), "STORE_UNAVAILABLE", ["Hunter2-Secret"]), /does not exist/);
      await failsCleanly(openStore(`postgres://u:Hunter2-Secret@${server.host}/x?schema=Bad-Name`), "INVALID_ARGUMENT", ["Hunter2-Secret"]);
    });

    it("a connection dropped mid-request fails that request clearly; the next requests succeed", async () => {
      const url = db.freshSchemaUrl();
      const store = await openPostgresStore(url, { warn: () => {}, poolMax: 3 });
      const admin = new pg.Client({ connectionString: db.url });
      admin.on("error", () => {});
      await admin.connect();
      try {
        const schema = new URL(url).searchParams.get("schema") as string;
        const doc = await store.commit({ session: testSession(), expectedRevision: null });
        // Hold the row so the store's commit waits on it, then kill the waiting backend.
        await admin.query("BEGIN");
        await admin.query(`SELECT 1 FROM ${schema}.sessions WHERE id = $1 FOR UPDATE`, [doc.id]);
        const pending = store.commit({ session: { ...doc, channel: "dropped" }, expectedRevision: 1 });
        pending.catch(() => undefined);
        let killed = 0;
        await waitFor(async () => {
          const r = await db.admin<{ n: number }>(
            `SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE application_name = 'openclaw' AND wait_event_type = 'Lock' AND datname = current_database()`,
          );
          killed += r[0]?.n ?? 0;
          return killed > 0;
        });
        assert.match(await failsCleanly(pending, "STORE_UNAVAILABLE", []), /unavailable \(terminating connection due to administrator command; SQLSTATE 57P01\); retry once it is back/);
        await admin.query("ROLLBACK");
        // Every idle connection killed too: the pool replaces them, no process crash.
        await db.admin(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'openclaw' AND datname = current_database()`);
        // A backend leaves pg_stat_activity as it exits, after closing its socket: by then the pool has been told.
        await waitFor(async () => {
          const r = await db.admin<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'openclaw' AND datname = current_database()`);
          return r[0]?.n === 0;
        });
        assert.equal((await store.get(doc.id))?.session.revision, 1);
        const saved = await store.commit({ session: { ...doc, channel: "after" }, expectedRevision: 1 });
        assert.equal(saved.revision, 2);
      } finally {
        await admin.end();
        await store.close();
      }
    });

    it("the change listener reconnects after its connection drops and keeps delivering", async () => {
      const url = db.freshSchemaUrl();
      const warnings: string[] = [];
      const a = await openPostgresStore(url, { warn: (m) => warnings.push(m) });
      const b = await openPostgresStore(url, { warn: () => {} });
      try {
        const seen: StoreChange[] = [];
        const stop = a.watch((c) => seen.push(c));
        await a.list();
        const first = await b.commit({ session: testSession(), expectedRevision: null });
        await waitFor(() => seen.length === 1);
        await db.admin(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'openclaw-listen' AND datname = current_database()`);
        await waitFor(() => warnings.some((w) => /resumed/.test(w)));
        const second = await b.commit({ session: testSession(), expectedRevision: null });
        await waitFor(() => seen.length === 2);
        assert.deepEqual(
          seen.map((c) => c.id),
          [first.id, second.id],
        );
        assert.match(warnings[0] ?? "", /interrupted .*reconnecting/);
        stop();
      } finally {
        await a.close();
        await b.close();
      }
    });

    it("close waits for requests in flight, leaves no connection open, and later calls reject CLOSED", async () => {
      const url = db.freshSchemaUrl();
      const store: SessionStore = await openPostgresStore(url, { warn: () => {}, poolMax: 4 });
      store.watch(() => {});
      const doc = await store.commit({ session: testSession(), expectedRevision: null });
      const inFlight = [store.get(doc.id), store.list(), appendTo(store, doc, [testMessage("m")])];
      await store.close();
      const settled = await Promise.allSettled(inFlight);
      assert.deepEqual(
        settled.map((s) => s.status),
        ["fulfilled", "fulfilled", "fulfilled"],
      );
      await failsCleanly(store.get(doc.id), "CLOSED", []);
      await failsCleanly(store.list(), "CLOSED", []);
      // The tests of this file run one at a time and close their stores: any connection left would be this one's.
      await waitFor(async () => (await db.admin(`SELECT 1 FROM pg_stat_activity WHERE application_name LIKE 'openclaw%' AND datname = current_database()`)).length === 0);
    });

    it("pool size follows poolMax", async () => {
      const store = await openPostgresStore(db.freshSchemaUrl(), { warn: () => {}, poolMax: 2 });
      try {
        const doc = await store.commit({ session: testSession(), expectedRevision: null });
        await Promise.all(Array.from({ length: 20 }, () => store.get(doc.id)));
        const [row] = await db.admin<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'openclaw' AND datname = current_database()`);
        assert.ok((row?.n ?? 0) <= 2, `at most 2 connections, saw ${row?.n}`);
        await assert.rejects(openPostgresStore(db.url, { poolMax: 0 }), { code: "INVALID_ARGUMENT" });
      } finally {
        await store.close();
      }
    });
  });
