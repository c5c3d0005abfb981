import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { SessionEvent } from "../../src/manager/events.js";
import { openTestManager } from "../helpers/manager-open.js";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe("retention (sessions.maintenance)", () => {
  it("deletes archived and expired sessions past their age, oldest first, each a deleted event; a dry run deletes nothing", async () => {
    const env = await openTestManager({ config: { sessions: { expirationMs: HOUR } } });
    try {
      const m = env.manager;
      const say = (user: string) => m.receive({ channel: "telegram", senderId: user }, `hello from ${user}`);
      const oldArchived = await say("a");
      await m.archive(oldArchived.id);
      env.advance(DAY);
      const oldExpired = await say("b");
      env.advance(10 * DAY);
      const recentArchived = await say("c");
      await m.archive(recentArchived.id);
      const recentExpired = await say("d");
      env.advance(2 * HOUR);
      const live = await say("e");

      const policy = { deleteArchivedAfter: 7 * DAY, deleteExpiredAfter: 5 * DAY };
      const dry = await m.prune({ policy, dryRun: true });
      assert.deepEqual(
        dry.deleted.map((t) => [t.key, t.reason]),
        [
          ["dm:telegram:a", "deleteArchivedAfter"],
          ["dm:telegram:b", "deleteExpiredAfter"],
        ],
      );
      assert.equal((await m.list({ status: "all" })).total, 5, "a dry run deletes nothing");

      const events: SessionEvent[] = [];
      m.subscribe((e) => events.push(e));
      const deletedInOrder: string[] = [];
      const done = await m.prune({ policy, onDeleted: (t) => deletedInOrder.push(t.id) });
      assert.deepEqual(deletedInOrder, [oldArchived.id, oldExpired.id], "oldest first");
      assert.deepEqual(
        done.deleted.map((t) => t.id),
        deletedInOrder,
      );
      assert.deepEqual(
        events.filter((e) => e.type === "deleted").map((e) => e.id),
        deletedInOrder,
      );
      const left = (await m.list({ status: "all" })).items.map((s) => s.id).sort();
      assert.deepEqual(left, [recentArchived.id, recentExpired.id, live.id].sort());
      assert.equal((await m.prune({ policy })).deleted.length, 0, "nothing left to do");
    } finally {
      await env.cleanup();
    }
  });

  it("maxSessions deletes the oldest archived or expired sessions, never a live one, and says how many live ones stay over", async () => {
    const env = await openTestManager({ config: { sessions: { expirationMs: HOUR } } });
    try {
      const m = env.manager;
      const ids: string[] = [];
      for (const user of ["1", "2", "3"]) {
        ids.push((await m.receive({ channel: "slack", senderId: user }, "hi")).id);
        env.advance(2 * HOUR);
      }
      for (const user of ["4", "5", "6"]) ids.push((await m.receive({ channel: "slack", senderId: user }, "hi")).id);
      const r = await m.prune({ policy: { maxSessions: 4 } });
      assert.deepEqual(
        r.deleted.map((t) => [t.id, t.reason]),
        [
          [ids[0], "maxSessions"],
          [ids[1], "maxSessions"],
        ],
      );
      assert.equal(r.overMax, 0);
      const tight = await m.prune({ policy: { maxSessions: 1 } });
      assert.deepEqual(
        tight.deleted.map((t) => t.id),
        [ids[2]],
        "the last expired one goes",
      );
      assert.equal(tight.overMax, 2, "three live sessions remain for a limit of one");
      assert.equal((await m.list({ status: "all" })).total, 3);
    } finally {
      await env.cleanup();
    }
  });

  it("a selected session that becomes live before its turn is kept; the backup export holds what was selected", async () => {
    const env = await openTestManager({ config: { sessions: { expirationMs: 0, maintenance: { deleteArchivedAfter: "1d" } } } });
    try {
      const m = env.manager;
      const a = await m.receive({ channel: "telegram", senderId: "x" }, "keep me");
      const b = await m.receive({ channel: "telegram", senderId: "y" }, "delete me");
      await m.archive(a.id);
      await m.archive(b.id);
      env.advance(2 * DAY);
      let exported: string[] = [];
      const r = await m.prune({
        backup: async (envelope) => {
          exported = envelope.sessions.map((s) => s.id);
          // Someone brings one back between the selection and the deletion.
          await m.unarchive(a.id);
        },
      });
      assert.deepEqual(exported.sort(), [a.id, b.id].sort());
      assert.deepEqual(
        r.deleted.map((t) => t.id),
        [b.id],
      );
      assert.deepEqual(
        r.skipped.map((t) => [t.id, t.why]),
        [[a.id, "it is active now"]],
      );
      assert.equal((await m.get(a.id)).status, "active");
    } finally {
      await env.cleanup();
    }
  });

  it("a failed backup deletes nothing", async () => {
    const env = await openTestManager({ config: { sessions: { expirationMs: 0 } } });
    try {
      const m = env.manager;
      const a = await m.receive({ channel: "telegram", senderId: "z" }, "x");
      await m.archive(a.id);
      env.advance(2 * DAY);
      await assert.rejects(m.prune({ policy: { deleteArchivedAfter: DAY }, backup: async () => Promise.reject(new Error("disk full")) }), /disk full/);
      assert.equal((await m.get(a.id)).status, "archived");
    } finally {
      await env.cleanup();
    }
  });
});
