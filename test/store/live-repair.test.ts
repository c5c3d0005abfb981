// Two live sessions for one key (what an old import could leave) are found and repaired the same on every backend.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { archiveOlderLive, findDoubleLive } from "../../src/store/live-repair.js";
import { openStore } from "../../src/store/open.js";
import type { SessionStore } from "../../src/store/store.js";
import { withPostgresDatabase } from "../helpers/postgres.js";
import { testSession } from "../helpers/store-sessions.js";

const db = await withPostgresDatabase();
const KEY = "dm:telegram:43";
const NOW = new Date("2025-01-05T12:00:00.000Z");
const CUTOFF = "2025-01-04T12:00:00.000Z";

const backends: Array<{ name: string; skip?: string; open: () => Promise<{ store: SessionStore; done: () => Promise<void> }> }> = [
  { name: "memory", open: async () => ({ store: await openStore("memory:"), done: async () => {} }) },
  {
    name: "file",
    open: async () => {
      const dir = await mkdtemp(join(tmpdir(), "oc-live-"));
      const store = await openStore(`file:${dir}`, { warn: () => {} });
      return { store, done: () => rm(dir, { recursive: true, force: true }) };
    },
  },
  "skip" in db
    ? { name: "postgres", skip: db.skip, open: async () => Promise.reject(new Error(db.skip)) }
    : { name: "postgres", open: async () => ({ store: await openStore(db.freshSchemaUrl(), { warn: () => {} }), done: async () => {} }) },
];

for (const backend of backends) {
  describe(`${backend.name} store: two live sessions for one key`, { ...(backend.skip !== undefined ? { skip: backend.skip } : {}) }, () => {
    it("are found, and repairing archives the older, keeps the most recently active, and leaves other sessions alone", async () => {
      const { store, done } = await backend.open();
      try {
        const at = (iso: string) => ({ status: "active" as const, key: KEY, lastActivityAt: iso, updatedAt: iso });
        const older = await store.commit({ session: testSession(at("2025-01-05T10:00:00.000Z")), expectedRevision: null });
        const newer = await store.commit({ session: testSession(at("2025-01-05T11:00:00.000Z")), expectedRevision: null });
        // Not live, so no clash: an archived one, one expired by time, and the live session of another key.
        await store.commit({ session: testSession({ ...at("2025-01-05T11:30:00.000Z"), status: "archived", archivedAt: "2025-01-05T11:30:00.000Z" }), expectedRevision: null });
        await store.commit({ session: testSession(at("2025-01-01T10:00:00.000Z")), expectedRevision: null });
        const other = await store.commit({ session: testSession({ status: "active", lastActivityAt: "2025-01-05T09:00:00.000Z" }), expectedRevision: null });

        const found = await findDoubleLive(store, CUTOFF);
        assert.deepEqual(
          found.map((d) => [d.key, d.keep.id, d.older.map((s) => s.id)]),
          [[KEY, newer.id, [older.id]]],
        );
        assert.deepEqual(await archiveOlderLive(store, found[0] as (typeof found)[0], NOW), [older.id]);
        assert.equal((await store.get(older.id))?.session.status, "archived");
        assert.equal((await store.get(newer.id))?.session.status, "active");
        assert.equal((await store.get(other.id))?.session.status, "active");
        assert.deepEqual(await findDoubleLive(store, CUTOFF), []);
        const live = (await store.list({ key: KEY, statuses: ["created", "active"], expiryCutoff: CUTOFF })).items.map((s) => s.id);
        assert.deepEqual(live, [newer.id]);
      } finally {
        await store.close();
        await done();
      }
    });
  });
}
