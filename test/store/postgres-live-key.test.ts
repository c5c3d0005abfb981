// On PostgreSQL a key's live session holds the key's claim (the partial unique index on
// live_key): every path that makes a session live must leave it holding the claim.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { archiveOlderLive, findDoubleLive } from "../../src/store/live-repair.js";
import { openStore } from "../../src/store/open.js";
import { fixtureExport } from "../helpers/cli-fixtures.js";
import { openTestManager } from "../helpers/manager-open.js";
import { withPostgresDatabase } from "../helpers/postgres.js";
import { testSession } from "../helpers/store-sessions.js";

const db = await withPostgresDatabase();
const KEY = "dm:telegram:43";
const INBOUND = { channel: "telegram", senderId: "43" };
const DAY = 86_400_000;

if ("skip" in db) describe("postgres: the live key of imported and restored sessions", { skip: db.skip }, () => {});
else
  describe("postgres: the live key of imported and restored sessions", () => {
    const open = async () => {
      const storeUri = db.freshSchemaUrl();
      const schema = new URL(storeUri).searchParams.get("schema") as string;
      const t = await openTestManager({ storeUri });
      const holder = async (): Promise<string | undefined> => (await db.admin<{ id: string }>(`SELECT id FROM ${schema}.sessions WHERE live_key = $1`, [KEY]))[0]?.id;
      return { ...t, holder };
    };

    it("an import that replaces the key's live session holds the key", async () => {
      const t = await open();
      try {
        const old = (await t.manager.receive(INBOUND, "hello")).id;
        const backup = await t.manager.exportSessions([old]);
        await t.manager.delete(old);
        const fresh = (await t.manager.receive(INBOUND, "hello again")).id;
        assert.equal(await t.holder(), fresh);
        await t.manager.importSessions(backup, { clashes: "replace-live" });
        assert.equal(await t.holder(), old, "the imported session holds the key");
        assert.equal((await t.manager.receive(INBOUND, "where were we?")).id, old);
      } finally {
        await t.cleanup();
      }
    });

    it("a live session written over its archived copy (import --overwrite, unarchive) takes the free key", async () => {
      const t = await open();
      try {
        const id = (await t.manager.receive(INBOUND, "hello")).id;
        const backup = await t.manager.exportSessions([id]);
        await t.manager.archive(id);
        assert.equal(await t.holder(), undefined, "archiving releases the key");
        await t.manager.importSessions(backup, { overwrite: true });
        assert.equal(await t.holder(), id, "the overwritten, live again session holds the key");
        await t.manager.archive(id);
        await t.manager.unarchive(id);
        assert.equal(await t.holder(), id, "an unarchived session holds the key");
      } finally {
        await t.cleanup();
      }
    });

    it("repairing a key with two live sessions leaves the kept one holding the key", async () => {
      const t = await open();
      try {
        const held = (await t.manager.receive(INBOUND, "hello")).id;
        // The double as an old import made it: a second live session written straight to the store.
        const store = await openStore(t.storeUri as string, { warn: () => {} });
        try {
          const at = new Date(Date.parse("2026-03-01T10:00:00.000Z") + 60_000).toISOString();
          const second = testSession({ key: KEY, status: "active", lastActivityAt: at, updatedAt: at });
          await store.commit({ session: second, expectedRevision: null });
          assert.equal(await t.holder(), held);
          const [double] = await findDoubleLive(store, null);
          assert.ok(double !== undefined);
          assert.deepEqual(await archiveOlderLive(store, double, new Date(at)), [held]);
          assert.equal(await t.holder(), second.id, "the kept session holds the key");
        } finally {
          await store.close();
        }
      } finally {
        await t.cleanup();
      }
    });

    it("an imported live session takes the key from a session that has expired since", async () => {
      const t = await open();
      try {
        const stale = (await t.manager.receive(INBOUND, "hello")).id;
        t.advance(2 * DAY);
        const backup = fixtureExport([{ key: KEY }], new Date(Date.parse("2026-03-01T10:00:00.000Z") + 2 * DAY));
        await t.manager.importSessions(backup);
        const imported = backup.sessions[0]?.id;
        assert.equal(await t.holder(), imported);
        assert.equal((await t.manager.get(stale)).status, "expired");
        assert.equal((await t.manager.receive(INBOUND, "back")).id, imported);
      } finally {
        await t.cleanup();
      }
    });
  });
