import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isOpenclawError } from "../../src/errors.js";
import { SessionManager } from "../../src/manager/manager.js";
import { openTestManager } from "../helpers/manager-open.js";

const HOUR = 3_600_000;

async function turn(m: SessionManager, channel: string, user: string, question: string, usage?: { input?: number; output?: number; total?: number; contextTokens?: number }) {
  const s = await m.receive({ channel, senderId: user }, question);
  return m.record({ ref: s.id }, { role: "assistant", content: `answer to ${question}`, sender: null }, usage === undefined ? {} : { usage });
}

describe("usage accounting", () => {
  it("a reply records its call's usage; the session keeps running totals, the last context size, and marks estimates", async () => {
    const env = await openTestManager({ config: { sessions: { expirationMs: 0 } } });
    try {
      const m = env.manager;
      const first = await turn(m, "telegram", "1", "hello", { input: 120, output: 30, total: 150 });
      assert.deepEqual(first.message.usage, { input: 120, output: 30, total: 150 });
      assert.deepEqual(first.session.context.usage, { input: 120, output: 30, total: 150, turns: 1, estimatedTurns: 0, lastContextTokens: 120, lastTurnAt: first.message.createdAt });
      env.advance(HOUR);
      // The upstream reported nothing: output is the reply's own count, input what the caller counted it sent.
      const second = await turn(m, "telegram", "1", "again", { contextTokens: 200 });
      assert.deepEqual(second.message.usage, { input: 200, output: second.message.tokens, total: 200 + second.message.tokens, estimated: true });
      const u = (await m.get(second.session.id)).context.usage;
      assert.equal(u?.turns, 2);
      assert.equal(u?.estimatedTurns, 1);
      assert.equal(u?.input, 320);
      assert.equal(u?.total, 150 + 200 + second.message.tokens);
      assert.equal(u?.lastContextTokens, 200);
      // Nothing at all: input falls back to the session's tokens in use.
      const third = await turn(m, "telegram", "1", "once more", {});
      assert.equal(third.message.usage?.estimated, true);
      assert.ok((third.message.usage?.input ?? 0) > 0);
      // A reply without usage options is not a model call: nothing counted.
      const plain = await turn(m, "telegram", "1", "no call");
      assert.equal(plain.message.usage, undefined);
      assert.equal((await m.get(plain.session.id)).context.usage?.turns, 3);
      // The totals survive a reopen and show in the listing.
      const listed = (await m.list({})).items.find((s) => s.id === first.session.id);
      const { lastContextTokens: _c, lastTurnAt: _t, ...totals } = (await m.get(first.session.id)).context.usage ?? assert.fail("no usage");
      assert.deepEqual(listed?.usage, totals, "the listing carries the totals");
    } finally {
      await env.cleanup();
    }
  });

  it("usage is refused on a message that is not a reply, or with counts that are not whole numbers; nothing is recorded", async () => {
    const env = await openTestManager();
    try {
      const m = env.manager;
      const s = await m.receive({ channel: "telegram", senderId: "2" }, "hi");
      const bad = (p: Promise<unknown>, pattern: RegExp) => assert.rejects(p, (e) => isOpenclawError(e, "INVALID_ARGUMENT") && pattern.test(e.message));
      await bad(m.record({ ref: s.id }, { role: "user", content: "x", sender: "2" }, { usage: { input: 1, output: 1 } }), /usage belongs to an assistant reply/);
      await bad(m.record({ ref: s.id }, { role: "assistant", content: "x", sender: null }, { usage: { input: -1, output: 1 } }), /usage\.input must be a whole number/);
      await bad(m.record({ ref: s.id }, { role: "assistant", content: "x", sender: null }, { usage: { input: 1, output: 1.5 } }), /usage\.output must be a whole number/);
      assert.equal((await m.get(s.id)).messages.length, 1);
    } finally {
      await env.cleanup();
    }
  });

  it("the report groups by channel, session and day, all time from the totals, over a period from the replies", async () => {
    const env = await openTestManager({ start: "2026-03-01T10:00:00.000Z", config: { sessions: { expirationMs: 0 } } });
    try {
      const m = env.manager;
      const a = await turn(m, "telegram", "a", "q1", { input: 100, output: 10 });
      await turn(m, "slack", "b", "q2", { input: 50, output: 5, total: 55 });
      env.advance(2 * 24 * HOUR);
      await turn(m, "telegram", "a", "q3", { input: 40, output: 4 });
      await turn(m, "telegram", "c", "q4", {});

      const byChannel = await m.usage();
      assert.equal(byChannel.source, "totals");
      assert.deepEqual(byChannel.rows.map((r) => [r.group, r.sessions, r.turns, r.input, r.output]).slice(1), [["slack", 1, 1, 50, 5]]);
      const telegram = byChannel.rows[0];
      assert.equal(telegram?.group, "telegram");
      assert.equal(telegram?.sessions, 2);
      assert.equal(telegram?.turns, 3);
      assert.equal(telegram?.estimatedTurns, 1);
      assert.equal(byChannel.totals.turns, 4);
      assert.equal(byChannel.totals.sessions, 3);

      const bySession = await m.usage({ by: "session" });
      const own = bySession.rows.find((r) => r.group === a.session.id);
      assert.equal(own?.key, "dm:telegram:a");
      assert.equal(own?.total, 110 + 44);

      const byDay = await m.usage({ by: "day" });
      assert.equal(byDay.source, "messages");
      assert.deepEqual(
        byDay.rows.map((r) => [r.group, r.turns]),
        [
          ["2026-03-01", 2],
          ["2026-03-03", 2],
        ],
      );
      assert.equal(byDay.totals.total, byChannel.totals.total, "days add up to the totals");

      const recent = await m.usage({ sinceMs: 24 * HOUR });
      assert.equal(recent.since, "2026-03-02T10:00:00.000Z");
      assert.deepEqual(
        recent.rows.map((r) => [r.group, r.turns]),
        [["telegram", 2]],
      );
      const recentSessions = await m.usage({ by: "session", sinceMs: 24 * HOUR });
      assert.equal(recentSessions.rows.find((r) => r.group === a.session.id)?.total, 44, "only the call in the period");

      await assert.rejects(m.usage({ sinceMs: -1 }), (e) => isOpenclawError(e, "INVALID_ARGUMENT"));
    } finally {
      await env.cleanup();
    }
  });

  it("a fork starts with no usage of its own, so reports do not count the source's calls twice", async () => {
    const env = await openTestManager({ config: { sessions: { expirationMs: 0 } } });
    try {
      const m = env.manager;
      const source = await turn(m, "telegram", "k", "question", { input: 70, output: 7 });
      const fork = await m.fork(source.session.id);
      assert.equal(fork.session.context.usage, undefined);
      assert.ok(fork.session.messages.every((x) => x.usage === undefined));
      assert.equal((await m.usage({ by: "day" })).totals.total, 77);
      assert.equal((await m.usage()).totals.total, 77);
    } finally {
      await env.cleanup();
    }
  });

  it("replies folded into the summary still count in the day report", async () => {
    const env = await openTestManager({ config: { sessions: { maxHistoryLength: 4, expirationMs: 0 } } });
    try {
      const m = env.manager;
      let id = "";
      for (let i = 0; i < 6; i++) id = (await turn(m, "telegram", "f", `question ${i}`, { input: 10, output: 1 })).session.id;
      assert.ok((await m.get(id)).prunedCount > 0, "some replies were folded");
      const byDay = await m.usage({ by: "day" });
      assert.equal(byDay.totals.turns, 6);
      assert.equal(byDay.totals.input, 60);
    } finally {
      await env.cleanup();
    }
  });
});
