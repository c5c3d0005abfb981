import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Summarizer } from "../../src/context/summarizer.js";
import { SessionManager } from "../../src/manager/manager.js";
import type { SessionEvent } from "../../src/manager/events.js";
import { sessionTokens } from "../../src/session/derived.js";
import type { SessionStore } from "../../src/store/store.js";
import { rejectsWith, type OpenStore } from "./store.js";

const START = new Date("2026-03-01T10:00:00.000Z");

/** A summarizer that always fails. */
const failing: Summarizer = { name: "failing", summarize: async () => Promise.reject(new Error("model unavailable (HTTP 503)")) };
/** A summarizer that never answers and ignores its signal. */
const hanging: Summarizer = { name: "hanging", summarize: () => new Promise<string>(() => undefined) };

const waitFor = async (cond: () => boolean, ms = 5000): Promise<void> => {
  const deadline = Date.now() + ms;
  while (!cond() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
};

/**
 * The manager's rules on any backend, including one with no optional
 * capability (every fallback of the manager is then exercised): two managers
 * on the same data stand for two processes.
 */
export function managerConformance(name: string, open: OpenStore): void {
  describe(`manager on the ${name} store`, () => {
    const withManagers = async (
      fn: (m: SessionManager, second: (() => Promise<SessionManager>) | undefined, store: SessionStore) => Promise<void>,
      config: unknown = {},
      deps: { primary?: Summarizer; fallback?: Summarizer } = {},
    ): Promise<void> => {
      const { store, reopen, cleanup } = await open();
      const opened: SessionManager[] = [];
      const make = async (s: SessionStore) => {
        const m = await SessionManager.open({ store: s, config, now: () => START, warn: () => {}, summarizerDeps: deps });
        opened.push(m);
        return m;
      };
      try {
        const m = await make(store);
        await fn(m, reopen === undefined ? undefined : async () => make(await reopen()), store);
      } finally {
        for (const m of opened) await m.close();
        await cleanup();
      }
    };

    it("two managers appending to one session at once lose, duplicate and reorder nothing", () =>
      withManagers(
        async (a, second, _store) => {
          const b = second === undefined ? a : await second();
          const s = await a.create({ key: "dm:telegram:both" });
          await Promise.all([
            ...Array.from({ length: 25 }, (_, i) => a.record({ ref: s.id }, { role: "user", content: `a:${i}` })),
            ...Array.from({ length: 25 }, (_, i) => b.record({ ref: s.id }, { role: "user", content: `b:${i}` })),
          ]);
          const contents = (await a.get(s.id)).messages.map((m) => m.content);
          assert.equal(contents.length, 50);
          assert.equal(new Set(contents).size, 50);
          for (const w of ["a", "b"]) {
            assert.deepEqual(
              contents.filter((c) => c.startsWith(`${w}:`)),
              Array.from({ length: 25 }, (_, i) => `${w}:${i}`),
            );
          }
          assert.equal((await b.get(s.id)).messages.length, 50, "the other manager's cache is checked, not trusted");
        },
        { sessions: { maxHistoryLength: 1000 } },
      ));

    it("two managers routing the first messages of one key at once create one session", () =>
      withManagers(async (a, second) => {
        // Every store finds or creates a key's live session atomically, so two managers share one.
        const b = second === undefined ? a : await second();
        const inbound = { channel: "telegram", senderId: "first" };
        const sessions = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).receive(inbound, `hello ${i}`)));
        assert.equal(new Set(sessions.map((s) => s.id)).size, 1);
        assert.equal((await a.list({ key: "dm:telegram:first" })).total, 1);
        assert.equal((await a.get("dm:telegram:first")).messages.length, 10);
      }));

    it("a retried append with the same client message id stores the message once and returns the same result", () =>
      withManagers(async (a, second) => {
        const b = second === undefined ? a : await second();
        const s = await a.create({ key: "dm:telegram:retry" });
        const first = await a.record({ ref: s.id }, { role: "user", content: "pay invoice INV-7", clientMessageId: "msg-1" });
        // The response was lost: the client retries, possibly through another instance.
        const again = await b.record({ ref: s.id }, { role: "user", content: "pay invoice INV-7", clientMessageId: "msg-1" });
        assert.equal(first.duplicate, false);
        assert.equal(again.duplicate, true);
        assert.equal(again.message.id, first.message.id);
        assert.deepEqual(
          (await a.get(s.id)).messages.map((m) => m.content),
          ["pay invoice INV-7"],
        );
        const other = await a.create({ key: "dm:telegram:other" });
        await a.record({ ref: other.id }, { role: "user", content: "same id, other session", clientMessageId: "msg-1" });
        assert.equal((await a.get(other.id)).messages.length, 1, "client ids are scoped to their session");
        await rejectsWith(a.record({ ref: s.id }, { role: "user", content: "x", clientMessageId: "has space" }), "INVALID_ARGUMENT");
      }));

    it("a retry whose first copy another writer folded out of the active history meanwhile is still recognised; after a clear it is stored again", () =>
      withManagers(
        async (a, second) => {
          const b = second === undefined ? a : await second();
          const s = await a.create({ key: "dm:telegram:folded-retry" });
          const first = await a.record({ ref: s.id }, { role: "user", content: "book flight BA249", clientMessageId: "msg-fold" });
          // The other writer's appends fold the first copy away before the client's retry arrives.
          for (let i = 0; i < 6; i++) await b.record({ ref: s.id }, { role: i % 2 ? "user" : "assistant", content: `turn ${i}`, clientMessageId: `t-${i}` });
          const before = await a.get(s.id);
          assert.ok(!before.messages.some((m) => m.clientId === "msg-fold"), "the first copy was folded");
          const again = await a.record({ ref: s.id }, { role: "user", content: "book flight BA249", clientMessageId: "msg-fold" });
          assert.equal(again.duplicate, true);
          assert.equal(again.message.id, first.message.id, "the message stored the first time is reported");
          const after = await a.get(s.id);
          assert.equal(after.messages.length + after.prunedCount, before.messages.length + before.prunedCount, "nothing was stored again");
          assert.ok((after.context.foldedClientIds ?? []).length <= 64);
          await a.clear(s.id);
          const cleared = await b.record({ ref: s.id }, { role: "user", content: "book flight BA249", clientMessageId: "msg-fold" });
          assert.equal(cleared.duplicate, false, "a cleared session holds nothing, folded or not");
        },
        { sessions: { maxHistoryLength: 4, lowWaterMark: 0.5 } },
      ));

    it("derived fields are computed at every save: tokens in use, model and window", () =>
      withManagers(
        async (m) => {
          let s = await m.receive({ channel: "slack", senderId: "u1", groupId: "G1" }, "first message with REF-1");
          for (let i = 0; i < 12; i++) s = (await m.record({ ref: s.id }, { role: i % 2 ? "user" : "assistant", content: `turn ${i} about ORDER-${i}` })).session;
          s = await m.edit(s.id, { system: "Be brief." });
          const stored = await m.get(s.id);
          assert.ok(stored.summary !== null, "the history was folded");
          assert.equal(stored.context.tokensInUse, sessionTokens(stored));
          assert.equal(stored.context.model, "gpt-4o");
          assert.equal(stored.context.window, 128_000);
        },
        { sessions: { maxHistoryLength: 6 } },
      ));

    it("a failing summarizer never fails the append: each message is stored once and the error is recorded with its time", () =>
      withManagers(
        async (m) => {
          const s = await m.create({ key: "dm:telegram:fail" });
          for (let i = 0; i < 8; i++) {
            const r = await m.record({ ref: s.id }, { role: i % 2 ? "assistant" : "user", content: `message ${i}` });
            assert.equal(r.message.content, `message ${i}`);
            if (i >= 4) assert.match(r.compactionError ?? "", /failing failed: model unavailable/);
          }
          const stored = await m.get(s.id);
          assert.deepEqual(
            stored.messages.map((x) => x.content),
            Array.from({ length: 8 }, (_, i) => `message ${i}`),
          );
          assert.match(stored.context.lastSummarizerError ?? "", /model unavailable/);
          assert.equal(stored.context.lastSummarizerErrorAt, START.toISOString());
          assert.equal(stored.summary, null, "nothing folded, nothing deleted");
        },
        { sessions: { maxHistoryLength: 3, compaction: { mode: "inline" } } },
        { primary: failing, fallback: failing },
      ));

    it("a hanging summarizer is abandoned after the compaction timeout; the append resolves with its message stored", () =>
      withManagers(
        async (m) => {
          const s = await m.create({ key: "dm:telegram:hang" });
          for (let i = 0; i < 3; i++) await m.record({ ref: s.id }, { role: "user", content: `m${i}` });
          const r = await m.record({ ref: s.id }, { role: "user", content: "m3" });
          assert.match(r.compactionError ?? "", /timed out after 200 ms/);
          const stored = await m.get(s.id);
          assert.equal(stored.messages.filter((x) => x.content === "m3").length, 1);
          assert.match(stored.context.lastSummarizerError ?? "", /timed out/);
        },
        { sessions: { maxHistoryLength: 2, compaction: { mode: "inline", timeoutMs: 200 } } },
        { primary: hanging, fallback: hanging },
      ));

    it("in the background a hanging summarizer never delays an append, and close() aborts it", () =>
      withManagers(
        async (m) => {
          const s = await m.create({ key: "dm:telegram:bg" });
          for (let i = 0; i < 6; i++) await m.record({ ref: s.id }, { role: "user", content: `m${i}` });
          assert.equal((await m.get(s.id)).messages.length, 6);
          const started = Date.now();
          await m.close();
          assert.ok(Date.now() - started < 5000, "close() does not wait for the hanging summarizer");
        },
        { sessions: { maxHistoryLength: 2, compaction: { mode: "background", timeoutMs: 600_000 } } },
        { primary: hanging, fallback: hanging },
      ));

    it("background compaction folds after the append returns", () =>
      withManagers(
        async (m) => {
          const s = await m.create({ key: "dm:telegram:later" });
          for (let i = 0; i < 8; i++) await m.record({ ref: s.id }, { role: i % 2 ? "assistant" : "user", content: `note ${i} ID-${i}` });
          await m.idle();
          const folded = await m.get(s.id);
          assert.ok(folded.summary !== null);
          assert.equal(folded.messages.length + (await m.prunedHistory(s.id)).length, 8);
        },
        { sessions: { maxHistoryLength: 4, compaction: { mode: "background" } } },
      ));

    it("subscribers see every change of a session in order, with its id, key and revision", () =>
      withManagers(async (m) => {
        const events: SessionEvent[] = [];
        const stop = m.subscribe((e) => events.push(e));
        const s = await m.receive({ channel: "telegram", senderId: "ev" }, "hello");
        await m.record({ ref: s.id }, { role: "assistant", content: "hi" });
        await m.edit(s.id, { set: { lang: "fr" } });
        await m.clear(s.id);
        await m.archive(s.id);
        await m.unarchive(s.id);
        await m.delete(s.id);
        stop();
        await m.receive({ channel: "telegram", senderId: "after" }, "unseen");
        assert.deepEqual(
          events.map((e) => e.type),
          ["created", "appended", "appended", "edited", "cleared", "archived", "unarchived", "deleted"],
        );
        assert.ok(events.every((e) => e.id === s.id && e.key === "dm:telegram:ev" && e.origin === "local"));
        assert.deepEqual(
          events.slice(0, -1).map((e) => e.revision),
          [1, 2, 3, 4, 5, 6, 7],
        );
      }));

    it("subscribers see the changes another instance makes, where the store can tell", async (t) => {
      const { store, reopen, cleanup } = await open();
      try {
        if (reopen === undefined) return t.skip("this store keeps no data another instance can open");
        const a = await SessionManager.open({ store, config: {}, warn: () => {} });
        const b = await SessionManager.open({ store: await reopen(), config: {}, warn: () => {} });
        const seen: SessionEvent[] = [];
        a.subscribe((e) => seen.push(e));
        // A server-backed store starts listening in the background; one call through it is the moment it is in place.
        await a.list();
        const s = await b.receive({ channel: "telegram", senderId: "far" }, "from elsewhere");
        await b.record({ ref: s.id }, { role: "assistant", content: "reply" });
        await waitFor(() => seen.length >= 2);
        assert.deepEqual(
          seen.map((e) => [e.type, e.revision, e.origin]),
          [
            ["created", 1, "remote"],
            ["appended", 2, "remote"],
            ["appended", 3, "remote"],
          ].slice(0, seen.length),
        );
        assert.ok(seen.length >= 2);
        await b.close();
        await a.close();
      } finally {
        await cleanup();
      }
    });

    it("an aborted signal stops a write before it happens", () =>
      withManagers(async (m) => {
        const s = await m.create({ key: "dm:telegram:abort" });
        const controller = new AbortController();
        controller.abort(new Error("client went away"));
        await rejectsWith(m.record({ ref: s.id }, { role: "user", content: "never" }, { signal: controller.signal }), "ABORTED");
        await rejectsWith(m.receive({ channel: "telegram", senderId: "abort2" }, "never", { signal: controller.signal }), "ABORTED");
        assert.equal((await m.get(s.id)).messages.length, 0);
        assert.equal((await m.list({ key: "dm:telegram:abort2" })).total, 0);
      }));

    it("returned sessions are read-only snapshots: changing one cannot change the cache", () =>
      withManagers(async (m) => {
        const s = await m.receive({ channel: "telegram", senderId: "ro" }, "hello");
        assert.throws(() => (s.messages as unknown[]).push("x"), TypeError);
        assert.equal((await m.get(s.id)).messages.length, 1);
      }));

    it("after close, the manager refuses work with CLOSED", () =>
      withManagers(async (m) => {
        const s = await m.create({ key: "dm:telegram:closed" });
        await m.close();
        await rejectsWith(m.record({ ref: s.id }, { role: "user", content: "late" }), "CLOSED");
      }));
  });
}
