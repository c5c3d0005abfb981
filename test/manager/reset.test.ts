import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { openTestManager } from "../helpers/manager-open.js";

const MIN = 60_000;
const dm = { channel: "telegram", senderId: "42" };
const user = (content: string) => ({ role: "user" as const, content });

describe("reset policies at routing", () => {
  it("a daily reset starts a fresh session at the first 04:00 after the session started, across a DST change, with carry-over", async () => {
    // Saturday 10:00 in New York (EST); the clocks go forward that night, so Sunday 04:00 is 08:00Z.
    const env = await openTestManager({ start: "2026-03-07T15:00:00.000Z", config: { sessions: { reset: { mode: "daily", atHour: 4, timezone: "America/New_York" } } } });
    try {
      const m = env.manager;
      const first = await m.record({ inbound: dm }, user("call me Ada"));
      await m.setPreferences(first.session.id, { language: "fr" });
      assert.equal(m.resetOf(first.session).at, "2026-03-08T08:00:00.000Z");
      env.advance(Date.parse("2026-03-08T07:59:00Z") - Date.parse("2026-03-07T15:00:00Z"));
      const same = await m.record({ inbound: dm }, user("still Saturday night"));
      assert.equal(same.session.id, first.session.id, "a daily reset does not count from the last message");
      env.advance(MIN);
      const next = await m.record({ inbound: dm }, user("good morning"));
      assert.notEqual(next.session.id, first.session.id);
      assert.deepEqual(next.started, { reason: "previous session reset", previousId: first.session.id, carriedOver: true });
      assert.deepEqual(next.session.preferences, { language: "fr" });
      const old = await m.get(first.session.id);
      assert.deepEqual([old.status, old.expiredAt], ["expired", "2026-03-08T08:00:00.000Z"]);
      // The new session started at 08:00Z Sunday: its reset is Monday 04:00 EDT.
      assert.equal(m.resetOf(next.session).at, "2026-03-09T08:00:00.000Z");
      assert.equal(m.resetOf(old).at, null, "an expired session has no reset ahead");
      // A reference names a session, not a routing decision: the old one takes no more messages.
      await assert.rejects(m.record({ ref: first.session.id }, user("late")), /has expired and takes no new messages/);
    } finally {
      await env.cleanup();
    }
  });

  it("a session past its daily reset reads as expired before any message arrives", async () => {
    const env = await openTestManager({ start: "2026-06-10T10:00:00.000Z", config: { sessions: { reset: { mode: "daily", atHour: 4, timezone: "Europe/Berlin" } } } });
    try {
      const s = await env.manager.receive(dm, "hello");
      env.advance(24 * 60 * MIN);
      const seen = await env.manager.get(s.id);
      assert.deepEqual([seen.status, seen.expiredAt], ["expired", "2026-06-11T02:00:00.000Z"]);
    } finally {
      await env.cleanup();
    }
  });

  it("resetByKind and resetByChannel give groups, threads and channels their own policies", async () => {
    const env = await openTestManager({
      config: {
        sessions: {
          expirationMs: 86_400_000,
          resetByKind: { group: { mode: "idle", idleMinutes: 30 }, thread: { mode: "never" } },
          resetByChannel: { discord: { mode: "idle", idleMinutes: 10 } },
        },
      },
    });
    try {
      const m = env.manager;
      const group = await m.receive({ channel: "slack", senderId: "a", groupId: "C1" }, "hi");
      const thread = await m.receive({ channel: "slack", senderId: "a", groupId: "C1", threadId: "T1" }, "hi");
      const direct = await m.receive(dm, "hi");
      const discord = await m.receive({ channel: "discord", senderId: "9" }, "hi");
      env.advance(11 * MIN);
      assert.notEqual((await m.receive({ channel: "discord", senderId: "9" }, "again")).id, discord.id, "discord: 10 minutes idle");
      assert.equal((await m.receive({ channel: "slack", senderId: "a", groupId: "C1" }, "again")).id, group.id);
      env.advance(31 * MIN);
      assert.equal((await m.receive(dm, "again")).id, direct.id, "DMs keep sessions.expirationMs (a day)");
      const later = await m.record({ inbound: { channel: "slack", senderId: "a", groupId: "C1" } }, user("after lunch"));
      assert.notEqual(later.session.id, group.id, "groups: 30 minutes idle");
      assert.equal(later.started?.reason, "previous session reset");
      env.advance(3 * 86_400_000);
      assert.equal((await m.receive({ channel: "slack", senderId: "a", groupId: "C1", threadId: "T1" }, "days later")).id, thread.id, "threads never reset");
      assert.equal(m.resetOf(thread).at, null);
      assert.notEqual((await m.receive(dm, "days later")).id, direct.id);
    } finally {
      await env.cleanup();
    }
  });

  it("sessions.expirationMs alone keeps resetting idle sessions as before", async () => {
    const env = await openTestManager({ config: { sessions: { expirationMs: 5 * MIN } } });
    try {
      const first = await env.manager.record({ inbound: dm }, user("one"));
      assert.equal(env.manager.resetOf(first.session).at, "2026-03-01T10:05:00.000Z");
      env.advance(6 * MIN);
      const next = await env.manager.record({ inbound: dm }, user("two"));
      assert.notEqual(next.session.id, first.session.id);
      assert.equal(next.started?.reason, "previous session expired");
      assert.equal(env.manager.resetOf(first.session).policy.mode, "idle");
    } finally {
      await env.cleanup();
    }
  });
});
