import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { ErrorCode } from "../../src/errors.js";
import { isOpenclawError } from "../../src/errors.js";
import type { Session } from "../../src/session/types.js";
import type { SessionStore, StoreChange } from "../../src/store/store.js";
import { applyAppend, canLock } from "../../src/store/store.js";
import { sessionTokens } from "../../src/session/derived.js";
import { appendTo, headerOf, richSession, testId, testMessage, testSession } from "../helpers/store-sessions.js";
import { leaseConformance } from "./leases.js";

/**
 * What a backend's test file hands the suite: a fresh, empty store, how to
 * dispose of it, and how to open a second instance on the same data (as
 * another process would), where the backend can share data.
 */
export type OpenStore = () => Promise<{ store: SessionStore; cleanup: () => Promise<void>; reopen?: () => Promise<SessionStore> }>;

/** Saves a new document (revision 1). */
export const create = (s: SessionStore, session: Session): Promise<Session> => s.commit({ session, expectedRevision: null });
/** Saves `session` over revision `expected`. */
export const save = (s: SessionStore, session: Session, expected: number | null): Promise<Session> => s.commit({ session, expectedRevision: expected });

/** Asserts that `p` rejects with an OpenclawError carrying `code`. */
export async function rejectsWith(p: Promise<unknown>, code: ErrorCode): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(isOpenclawError(err), `expected an OpenclawError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return true;
  });
}

const HOSTILE_IDS: readonly [string, unknown][] = [
  ["path traversal", "../../etc/passwd"],
  ["parent directory", ".."],
  ["empty string", ""],
  ["NUL byte", "0193b2c4-5d6e-7f80-9a1b-2c3d4e5f6a7b\u0000"],
  ["10k characters", "a".repeat(10_000)],
  ["upper-case UUID", "0193B2C4-5D6E-7F80-9A1B-2C3D4E5F6A7B"],
  ["absolute path", "/tmp/x"],
  ["not a string", 42],
];

/**
 * The one behavioural contract of a SessionStore. Every backend's test file
 * calls this with an opener; a backend is done when it passes unchanged.
 */
export function storeConformance(name: string, open: OpenStore): void {
  describe(`${name} store conformance`, () => {
    let store: SessionStore;
    let cleanup: () => Promise<void>;
    // A fresh store per test keeps tests independent of each other's sessions.
    const fresh = async (): Promise<SessionStore> => {
      await cleanup?.();
      ({ store, cleanup } = await open());
      return store;
    };
    before(async () => {
      ({ store, cleanup } = await open());
    });
    after(async () => {
      await store.close();
      await cleanup();
    });

    describe("documents", () => {
      it("reading an absent session gives undefined", async () => {
        const s = await fresh();
        assert.equal(await s.get(testId()), undefined);
      });

      it("a saved document reads back byte-for-byte equal, at revision 1", async () => {
        const s = await fresh();
        const doc = richSession();
        const saved = await save(s, doc, null);
        assert.equal(saved.revision, 1);
        assert.deepEqual(saved, { ...doc, revision: 1 });
        const loaded = await s.get(doc.id);
        assert.ok(loaded);
        assert.equal(JSON.stringify(loaded.session), JSON.stringify(saved));
        assert.ok(loaded.sizeBytes > 100, `a stored document has a size, got ${loaded.sizeBytes}`);
      });

      it("each save increments the revision by one", async () => {
        const s = await fresh();
        let doc = await save(s, testSession(), null);
        for (let i = 1; i <= 3; i++) {
          doc = await save(s, { ...doc, messages: [...doc.messages, testMessage(`m${i}`)] }, doc.revision);
          assert.equal(doc.revision, i + 1);
        }
        const loaded = await s.get(doc.id);
        assert.equal(loaded?.session.revision, 4);
        assert.equal(loaded?.session.messages.length, 3);
      });

      it("a stale revision is refused with CONFLICT and nothing changes", async () => {
        const s = await fresh();
        const v1 = await save(s, testSession(), null);
        const v2 = await save(s, { ...v1, channel: "second" }, 1);
        await rejectsWith(save(s, { ...v1, channel: "stale" }, 1), "CONFLICT");
        await rejectsWith(save(s, { ...v1, channel: "future" }, 7), "CONFLICT");
        assert.deepEqual((await s.get(v1.id))?.session, v2);
      });

      it("creating a session that already exists is refused with CONFLICT", async () => {
        const s = await fresh();
        const v1 = await save(s, testSession(), null);
        await rejectsWith(save(s, { ...v1, channel: "again" }, null), "CONFLICT");
        assert.deepEqual((await s.get(v1.id))?.session, v1);
      });

      it("saving against a revision of a session that does not exist is refused", async () => {
        const s = await fresh();
        const doc = testSession();
        await rejectsWith(save(s, doc, 3), "CONFLICT");
        assert.equal(await s.get(doc.id), undefined);
      });

      it("an invalid document is refused and nothing is written", async () => {
        const s = await fresh();
        const bad = { ...testSession(), status: "bogus" } as unknown as Session;
        await rejectsWith(save(s, bad, null), "INVALID_ARGUMENT");
        assert.equal(await s.get(bad.id), undefined);
        assert.equal((await s.list()).total, 0);
      });

      it("callers never share objects with the store", async () => {
        const s = await fresh();
        const doc = testSession({ messages: [testMessage("original")] });
        const saved = await save(s, doc, null);
        doc.messages.push(testMessage("mutated input"));
        saved.messages.push(testMessage("mutated result"));
        const first = await s.get(doc.id);
        assert.ok(first);
        first.session.messages[0]!.content = "mutated read";
        const again = await s.get(doc.id);
        assert.equal(again?.session.messages.length, 1);
        assert.equal(again?.session.messages[0]?.content, "original");
      });

      it("delete removes the document and its pruned log, then reports false", async () => {
        const s = await fresh();
        const doc = await save(s, testSession(), null);
        await s.commit({ session: doc, expectedRevision: 1, pruned: { append: [testMessage("old")] } });
        const keep = await save(s, testSession(), null);
        assert.equal(await s.delete(doc.id), true);
        assert.equal(await s.get(doc.id), undefined);
        assert.deepEqual(await s.readPruned(doc.id), []);
        assert.deepEqual(
          (await s.list()).items.map((i) => i.id),
          [keep.id],
        );
        assert.equal(await s.delete(doc.id), false);
        assert.equal(await s.delete(testId()), false);
      });

      it("delete with an expected revision removes nothing once the revision moved on", async () => {
        const s = await fresh();
        const doc = await save(s, testSession(), null);
        const moved = await s.commit({ session: { ...doc, channel: "moved" }, expectedRevision: 1 });
        assert.equal(await s.delete(doc.id, undefined, 1), false);
        assert.equal((await s.get(doc.id))?.session.channel, "moved", "still there");
        assert.equal(await s.delete(doc.id, undefined, moved.revision), true);
        assert.equal(await s.get(doc.id), undefined);
        assert.equal(await s.delete(doc.id, undefined, moved.revision), false);
      });

      it("a deleted id can be created again from scratch", async () => {
        const s = await fresh();
        const doc = await save(s, testSession(), null);
        await s.delete(doc.id);
        const again = await save(s, { ...doc, channel: "reborn" }, null);
        assert.equal(again.revision, 1);
        assert.equal((await s.list()).items[0]?.channel, "reborn");
      });
    });

    describe("listing", () => {
      const at = (minute: number): string => new Date(Date.UTC(2025, 0, 3, 12, minute)).toISOString();
      let ids: Record<string, string>;
      before(async () => {
        const s = await fresh();
        ids = {};
        const specs: [string, Partial<Session>][] = [
          ["dmActive", { kind: "dm", channel: "telegram", status: "active", lastActivityAt: at(50) }],
          ["dmStale", { kind: "dm", channel: "telegram", status: "active", lastActivityAt: at(5) }],
          ["dmCreatedStale", { kind: "dm", channel: "discord", status: "created", lastActivityAt: at(1) }],
          ["group", { kind: "group", channel: "slack", status: "active", lastActivityAt: at(40) }],
          ["archived", { kind: "group", channel: "slack", status: "archived", lastActivityAt: at(2), archivedAt: at(3) }],
          ["expired", { kind: "isolated", channel: "cli", status: "expired", lastActivityAt: at(30), expiredAt: at(31) }],
          ["tieA", { kind: "isolated", channel: "cli", status: "active", lastActivityAt: at(20) }],
          ["tieB", { kind: "isolated", channel: "cli", status: "active", lastActivityAt: at(20) }],
        ];
        for (const [label, spec] of specs) {
          const doc = await save(s, testSession(spec), null);
          ids[label] = doc.id;
        }
      });
      const id = (label: string): string => ids[label] ?? assert.fail(label);
      const listIds = async (q: Parameters<SessionStore["list"]>[0] = {}): Promise<string[]> => (await store.list(q)).items.map((i) => i.id);

      it("lists newest activity first, ties broken by the newer id", async () => {
        // tieB was created after tieA, so its time-ordered id is greater.
        assert.deepEqual(await listIds(), ["dmActive", "group", "expired", "tieB", "tieA", "dmStale", "archived", "dmCreatedStale"].map(id));
      });

      it("filters by kind, channel and exact key", async () => {
        assert.deepEqual(await listIds({ kinds: ["group"] }), [id("group"), id("archived")]);
        assert.deepEqual(await listIds({ kinds: ["dm", "isolated"], channel: "cli" }), [id("expired"), id("tieB"), id("tieA")]);
        const key = (await store.get(id("dmStale")))?.session.key ?? assert.fail("missing");
        assert.deepEqual(await listIds({ key }), [id("dmStale")]);
        assert.deepEqual(await listIds({ channel: "nowhere" }), []);
      });

      it("without a cutoff nothing counts as expired except what is stored so", async () => {
        assert.deepEqual(await listIds({ statuses: ["expired"] }), [id("expired")]);
        assert.deepEqual(await listIds({ statuses: ["expired"], expiryCutoff: null }), [id("expired")]);
      });

      it("created and active sessions idle before the cutoff list as expired", async () => {
        const expiryCutoff = at(10);
        assert.deepEqual(await listIds({ statuses: ["expired"], expiryCutoff }), [id("expired"), id("dmStale"), id("dmCreatedStale")]);
        assert.deepEqual(await listIds({ statuses: ["active", "created"], expiryCutoff }), [id("dmActive"), id("group"), id("tieB"), id("tieA")]);
        const page = await store.list({ expiryCutoff });
        const status = new Map(page.items.map((i) => [i.id, i.status]));
        assert.equal(status.get(id("dmStale")), "expired");
        assert.equal(status.get(id("dmCreatedStale")), "expired");
        assert.equal(status.get(id("archived")), "archived");
        assert.equal((await store.get(id("dmStale")))?.session.status, "active", "listing never rewrites the stored status");
      });

      it("activeSince keeps sessions active at or after the instant", async () => {
        assert.deepEqual(await listIds({ activeSince: at(30) }), [id("dmActive"), id("group"), id("expired")]);
      });

      it("offset and limit page through the results while total counts every match", async () => {
        const all = await listIds();
        const page1 = await store.list({ limit: 3 });
        const page2 = await store.list({ offset: 3, limit: 3 });
        const page3 = await store.list({ offset: 6, limit: 3 });
        assert.equal(page1.total, 8);
        assert.equal(page3.total, 8);
        assert.deepEqual(
          [...page1.items, ...page2.items, ...page3.items].map((i) => i.id),
          all,
        );
        assert.equal(page3.items.length, 2);
        const filtered = await store.list({ kinds: ["isolated"], limit: 1 });
        assert.equal(filtered.total, 3);
        assert.equal(filtered.items.length, 1);
        assert.deepEqual((await store.list({ offset: 50 })).items, []);
        assert.deepEqual((await store.list({ limit: 0 })).items, []);
      });

      it("a malformed query is refused with INVALID_ARGUMENT", async () => {
        await rejectsWith(store.list({ limit: -1 }), "INVALID_ARGUMENT");
        await rejectsWith(store.list({ offset: 1.5 }), "INVALID_ARGUMENT");
        await rejectsWith(store.list({ activeSince: "yesterday" }), "INVALID_ARGUMENT");
      });

      it("summaries follow the latest save", async () => {
        const s = await fresh();
        let doc = await save(s, testSession({ systemPrompts: [{ id: testId(), content: "sys", tokens: 5, createdAt: at(0) }] }), null);
        doc = await save(s, { ...doc, status: "active", messages: [testMessage("hello", at(1), { tokens: 7 }), testMessage("there", at(2), { tokens: 3 })] }, 1);
        const [item] = (await s.list()).items;
        assert.ok(item);
        assert.equal(item.id, doc.id);
        assert.equal(item.revision, 2);
        assert.equal(item.messageCount, 2);
        assert.equal(item.tokens, 15);
        assert.equal(item.status, "active");
        assert.equal(item.key, doc.key);
        assert.ok(item.sizeBytes > 100, `a listed document has a size, got ${item.sizeBytes}`);
      });
    });

    describe("pruned history travels with the commit", () => {
      it("a commit appends to the log and saves the document as one change", async () => {
        const s = await fresh();
        let doc = await create(s, testSession({ messages: [testMessage("p1"), testMessage("p2"), testMessage("keep")] }));
        const fold = doc.messages.slice(0, 2);
        doc = await s.commit({ session: { ...doc, messages: doc.messages.slice(2), prunedCount: 2 }, expectedRevision: 1, pruned: { append: fold }, reason: "compacted" });
        assert.equal(doc.revision, 2);
        assert.deepEqual(await s.readPruned(doc.id), fold);
        const batch2 = [testMessage("p3", undefined, { pinned: true, toolCalls: [{ id: "c", name: "t", arguments: "{}" }] })];
        await s.commit({ session: doc, expectedRevision: 2, pruned: { append: [] } });
        await s.commit({ session: doc, expectedRevision: 3, pruned: { append: batch2 } });
        assert.deepEqual(await s.readPruned(doc.id), [...fold, ...batch2]);
        assert.deepEqual(
          (await s.get(doc.id))?.session.messages.map((m) => m.content),
          ["keep"],
        );
      });

      it("an id logged twice (a fold re-logged after a crash) reads back once, first copy kept", async () => {
        const s = await fresh();
        const doc = await create(s, testSession());
        const m1 = testMessage("folded once");
        await s.commit({ session: doc, expectedRevision: 1, pruned: { append: [m1] } });
        await s.commit({ session: doc, expectedRevision: 2, pruned: { append: [{ ...m1, content: "logged again" }, testMessage("new")] } });
        assert.deepEqual(
          (await s.readPruned(doc.id)).map((m) => m.content),
          ["folded once", "new"],
        );
      });

      it("a replacement swaps the whole log, and an empty one clears it", async () => {
        const s = await fresh();
        const doc = await create(s, testSession());
        await s.commit({ session: doc, expectedRevision: 1, pruned: { append: [testMessage("a"), testMessage("b")] } });
        const replacement = [testMessage("c")];
        await s.commit({ session: doc, expectedRevision: 2, pruned: { replace: replacement } });
        assert.deepEqual(await s.readPruned(doc.id), replacement);
        await s.commit({ session: doc, expectedRevision: 3, pruned: { append: [testMessage("d")] } });
        assert.deepEqual(
          (await s.readPruned(doc.id)).map((m) => m.content),
          ["c", "d"],
        );
        await s.commit({ session: doc, expectedRevision: 4, pruned: { replace: [] } });
        assert.deepEqual(await s.readPruned(doc.id), []);
      });

      it("a refused commit (stale revision or an invalid pruned message) writes neither the log nor the document", async () => {
        const s = await fresh();
        const doc = await create(s, testSession());
        await rejectsWith(s.commit({ session: { ...doc, channel: "stale" }, expectedRevision: 0, pruned: { append: [testMessage("x")] } }), "CONFLICT");
        const bad = { ...testMessage("x"), role: "robot" } as unknown as ReturnType<typeof testMessage>;
        await rejectsWith(s.commit({ session: { ...doc, channel: "bad" }, expectedRevision: 1, pruned: { append: [testMessage("ok"), bad] } }), "INVALID_ARGUMENT");
        await rejectsWith(s.commit({ session: { ...doc, channel: "bad" }, expectedRevision: 1, pruned: { replace: [bad] } }), "INVALID_ARGUMENT");
        assert.deepEqual(await s.readPruned(doc.id), []);
        assert.deepEqual((await s.get(doc.id))?.session, doc);
      });

      it("an unknown session has an empty log", async () => {
        const s = await fresh();
        assert.deepEqual(await s.readPruned(testId()), []);
      });
    });

    describe("concurrent writers", () => {
      it("two writers racing on one revision: exactly one wins, the other gets CONFLICT", async () => {
        const s = await fresh();
        const doc = await create(s, testSession());
        const results = await Promise.allSettled([s.commit({ session: { ...doc, channel: "first" }, expectedRevision: 1 }), s.commit({ session: { ...doc, channel: "second" }, expectedRevision: 1 })]);
        const won = results.filter((r) => r.status === "fulfilled");
        const lost = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
        assert.equal(won.length, 1);
        assert.equal(lost.length, 1);
        assert.ok(isOpenclawError(lost[0]?.reason, "CONFLICT"), String(lost[0]?.reason));
        const stored = (await s.get(doc.id))?.session;
        assert.equal(stored?.revision, 2);
        assert.equal(stored?.channel, (won[0] as PromiseFulfilledResult<Session>).value.channel);
      });

      it("two creations of one id race: one wins", async () => {
        const s = await fresh();
        const doc = testSession();
        const results = await Promise.allSettled([create(s, { ...doc, channel: "a" }), create(s, { ...doc, channel: "b" })]);
        assert.deepEqual(results.map((r) => r.status).sort(), ["fulfilled", "rejected"]);
        assert.equal((await s.list()).total, 1);
      });

      it("a second instance on the same data sees the first one's writes and races it on revisions", async (t) => {
        const first = await open();
        try {
          if (first.reopen === undefined) return t.skip("this backend keeps no data another instance can open");
          const a = first.store;
          const b = await first.reopen();
          try {
            const doc = await create(a, testSession());
            await a.commit({ session: doc, expectedRevision: 1, pruned: { append: [testMessage("folded")] } });
            assert.equal((await b.get(doc.id))?.session.revision, 2);
            assert.deepEqual(
              (await b.readPruned(doc.id)).map((m) => m.content),
              ["folded"],
            );
            assert.deepEqual(
              (await b.list()).items.map((i) => i.id),
              [doc.id],
            );
            const results = await Promise.allSettled([a.commit({ session: { ...doc, channel: "via-a" }, expectedRevision: 2 }), b.commit({ session: { ...doc, channel: "via-b" }, expectedRevision: 2 })]);
            assert.deepEqual(results.map((r) => r.status).sort(), ["fulfilled", "rejected"]);
            assert.equal((await a.get(doc.id))?.session.revision, 3);
            assert.equal(await b.delete(doc.id), true);
            assert.equal(await a.get(doc.id), undefined);
          } finally {
            await b.close();
          }
        } finally {
          await first.store.close();
          await first.cleanup();
        }
      });
    });

    describe("ids from outside", () => {
      for (const [label, hostile] of HOSTILE_IDS) {
        it(`an id that is a ${label} is refused with INVALID_ID by every method, writing nothing`, async () => {
          const s = await fresh();
          const keep = await create(s, testSession());
          const bad = hostile as string;
          let ran = false;
          const attempts: Promise<unknown>[] = [
            s.get(bad),
            s.commit({ session: { ...testSession(), id: bad }, expectedRevision: null }),
            s.commit({ session: { ...testSession(), id: bad }, expectedRevision: null, pruned: { append: [testMessage("x")] } }),
            s.delete(bad),
            s.readPruned(bad),
            s.revisionOf(bad),
            s.appendMessages(bad, 1, headerOf(keep), [testMessage("x")]),
            s.mayContain(bad, "x", true),
          ];
          if (canLock(s)) attempts.push(s.withLock(bad, async () => void (ran = true)));
          for (const attempt of attempts) await rejectsWith(attempt, "INVALID_ID");
          assert.equal(ran, false, "withLock must not run its callback for an invalid id");
          assert.deepEqual(
            (await s.list()).items.map((i) => i.id),
            [keep.id],
          );
        });
      }
    });

    describe("after close", () => {
      it("every method rejects with CLOSED and closing again is harmless", async () => {
        const { store: s, cleanup } = await open();
        try {
          const doc = await create(s, testSession());
          await s.close();
          await s.close();
          const attempts: Promise<unknown>[] = [
            s.get(doc.id),
            s.commit({ session: doc, expectedRevision: 1 }),
            s.appendMessages(doc.id, 1, headerOf(doc), [testMessage("late")]),
            s.delete(doc.id),
            s.list(),
            s.readPruned(doc.id),
            s.revisionOf(doc.id),
            s.stats(null),
            s.findByIdPrefix(doc.id.slice(0, 8), 1),
            s.findOrCreateLive(doc.key, null, () => testSession()),
            s.describe(),
            s.maintain({ dryRun: true }),
            s.sizeOnDisk(),
            s.mayContain(doc.id, "x", false),
          ];
          if (canLock(s)) attempts.push(s.withLock(doc.id, async () => 1));
          for (const attempt of attempts) await rejectsWith(attempt, "CLOSED");
          assert.throws(
            () => s.watch(() => {}),
            (err: unknown) => isOpenclawError(err) && err.code === "CLOSED",
          );
        } finally {
          await cleanup();
        }
      });

      it("what was written before close is there for the next instance", async (t) => {
        const first = await open();
        try {
          if (first.reopen === undefined) return t.skip("this backend keeps no data another instance can open");
          const doc = await create(first.store, testSession({ channel: "kept" }));
          await first.store.close();
          const again = await first.reopen();
          assert.equal((await again.get(doc.id))?.session.channel, "kept");
          await again.close();
        } finally {
          await first.cleanup();
        }
      });
    });

    leaseConformance(open);

    describe("capability: locking", () => {
      it("50 concurrent read-modify-write callers on one id all land, in arrival order", async (t) => {
        const s = await fresh();
        if (!canLock(s)) return t.skip("no locking");
        const doc = await create(s, testSession());
        await Promise.all(
          Array.from({ length: 50 }, (_, n) =>
            s.withLock(doc.id, async (held) => {
              const cur = (await s.get(doc.id))?.session ?? assert.fail("session vanished");
              await s.commit({ session: { ...cur, messages: [...cur.messages, testMessage(`seq ${n}`)] }, expectedRevision: cur.revision, held });
            }),
          ),
        );
        const final = (await s.get(doc.id))?.session ?? assert.fail("session vanished");
        assert.deepEqual(
          final.messages.map((m) => m.content),
          Array.from({ length: 50 }, (_, n) => `seq ${n}`),
        );
        assert.equal(final.revision, 51);
      });

      it("withLock returns the callback's value, hands its hold to the writes inside it, and a throwing callback releases the lock", async (t) => {
        const s = await fresh();
        if (!canLock(s)) return t.skip("no locking");
        const doc = await create(s, testSession());
        const result = await s.withLock(doc.id, async (held) => (await s.commit({ session: { ...doc, channel: "nested" }, expectedRevision: 1, held })).channel);
        assert.equal(result, "nested");
        const m = testMessage("appended under the hold");
        const appended = await s.withLock(doc.id, async (held) => {
          const cur = (await s.get(doc.id))?.session ?? assert.fail("session vanished");
          return appendTo(s, cur, [m], {}, held);
        });
        assert.equal(appended.revision, 3);
        assert.equal((await s.get(doc.id))?.session.messages.at(-1)?.content, "appended under the hold");
        assert.equal(await s.withLock(doc.id, (held) => s.delete(doc.id, held)), true);
        await assert.rejects(
          s.withLock(doc.id, async () => Promise.reject(new Error("boom"))),
          /boom/,
        );
        assert.equal(await s.withLock(doc.id, async () => 7), 7);
      });

      it("a waiter whose signal fires gives up with ABORTED, and the queue behind it still runs", async (t) => {
        const s = await fresh();
        if (!canLock(s)) return t.skip("no locking");
        const id = testId();
        let release!: () => void;
        const held = s.withLock(id, () => new Promise<void>((r) => (release = r)));
        const controller = new AbortController();
        const waiter = s.withLock(id, async () => "ran", controller.signal);
        const after = s.withLock(id, async () => "after");
        controller.abort();
        await rejectsWith(waiter, "ABORTED");
        release();
        await held;
        assert.equal(await after, "after");
      });
    });

    describe("appending a delta", () => {
      it("the messages land after the stored ones, the header change is applied and nothing else changes", async () => {
        const s = await fresh();
        const doc = await create(s, { ...richSession(), id: testId() });
        const m1 = testMessage("three", "2025-01-02T11:00:00.000Z");
        const m2 = testMessage("four", "2025-01-02T11:00:01.000Z", { role: "assistant", sender: null });
        // A running total, as every writer keeps it: the stored count plus the new messages.
        const context = { ...doc.context, tokensInUse: sessionTokens(doc) + m1.tokens + m2.tokens };
        const expected = await appendTo(s, doc, [m1, m2], { status: "active", updatedAt: m2.createdAt, lastActivityAt: m2.createdAt, participants: [...doc.participants, "carol"], context });
        assert.equal(expected.revision, doc.revision + 1);
        const loaded = (await s.get(doc.id))?.session;
        assert.deepEqual(loaded, expected, "the stored document is the base plus the delta");
        assert.deepEqual(Object.keys(loaded ?? {}), Object.keys(doc), "in the order it was written");
        assert.equal(await s.revisionOf(doc.id), doc.revision + 1);
        const summary = (await s.list({ key: doc.key })).items[0];
        assert.equal(summary?.messageCount, doc.messages.length + 2, "the count grows by the messages appended");
        assert.equal(summary?.tokens, context.tokensInUse, "tokens are the header's running total");
        assert.equal(summary?.lastActivityAt, m2.createdAt);
      });

      it("a stale or absent base revision is a CONFLICT and writes nothing", async () => {
        const s = await fresh();
        const doc = await create(s, testSession({ messages: [testMessage("one")] }));
        const next = await appendTo(s, doc, [testMessage("two")], { status: "active" });
        await rejectsWith(s.appendMessages(doc.id, doc.revision, headerOf(doc), [testMessage("stale")]), "CONFLICT");
        await rejectsWith(s.appendMessages(testId(), 1, headerOf(doc), [testMessage("nowhere")]), "CONFLICT");
        assert.deepEqual((await s.get(doc.id))?.session, next);
        assert.equal((await s.list()).total, 1);
      });

      it("an invalid message or header is refused with INVALID_ARGUMENT and writes nothing", async () => {
        const s = await fresh();
        const doc = await create(s, testSession({ messages: [testMessage("one")] }));
        await rejectsWith(s.appendMessages(doc.id, 1, headerOf(doc), [{ ...testMessage("bad"), role: "narrator" as "user" }]), "INVALID_ARGUMENT");
        await rejectsWith(s.appendMessages(doc.id, 1, { ...headerOf(doc), status: "gone" as "active" }, [testMessage("ok")]), "INVALID_ARGUMENT");
        await rejectsWith(s.appendMessages(doc.id, 1, { ...headerOf(doc), updatedAt: "yesterday" }, [testMessage("ok")]), "INVALID_ARGUMENT");
        assert.deepEqual((await s.get(doc.id))?.session, doc);
      });

      it("successive appends read back whole, in another instance too, and a commit after them keeps them", async () => {
        const first = await open();
        try {
          const s = first.store;
          let doc = await create(s, testSession());
          for (let i = 0; i < 5; i++) doc = await appendTo(s, doc, [testMessage(`m${i}`)], { status: "active" });
          assert.deepEqual((await s.get(doc.id))?.session, doc);
          const saved = await save(s, { ...doc, channel: "edited" }, doc.revision);
          const more = await appendTo(s, saved, [testMessage("after the edit")]);
          assert.deepEqual((await s.get(doc.id))?.session, more);
          if (first.reopen !== undefined) {
            const other = await first.reopen();
            try {
              assert.deepEqual((await other.get(doc.id))?.session, more);
              const theirs = await appendTo(other, more, [testMessage("from the other instance")]);
              assert.deepEqual((await s.get(doc.id))?.session, theirs);
              assert.deepEqual(await appendTo(s, theirs, [testMessage("and back")]).then((d) => d.messages.length), 8);
            } finally {
              await other.close();
            }
          }
        } finally {
          await first.store.close();
          await first.cleanup();
        }
      });

      it("applyAppend builds the new document from the base without changing the base", () => {
        const base = testSession({ messages: [testMessage("one")] });
        const m = testMessage("two");
        const next = applyAppend(base, { ...headerOf(base), status: "active" }, [m], 2);
        assert.deepEqual(
          next.messages.map((x) => x.content),
          ["one", "two"],
        );
        assert.equal(next.status, "active");
        assert.equal(next.revision, 2);
        assert.equal(base.messages.length, 1);
      });
    });

    describe("a fold's commit (folds: true)", () => {
      /** A session of six appended messages "m0".."m5", and the fold of those at `indexes` into a summary. */
      const folding = async (s: SessionStore, indexes: number[]) => {
        let doc = await create(s, testSession());
        for (let i = 0; i < 6; i++) doc = await appendTo(s, doc, [testMessage(`m${i}`)], { status: "active" });
        const folded = indexes.map((i) => doc.messages[i] as Session["messages"][number]);
        const ids = new Set(folded.map((m) => m.id));
        const summary = { text: "what m0, m1 and m3 said", tokens: 7, messageCount: folded.length, throughMessageId: folded.at(-1)?.id ?? null, updatedAt: "2025-01-02T11:00:00.000Z", summarizer: "extractive" };
        const next: Session = { ...doc, summary, messages: doc.messages.filter((m) => !ids.has(m.id)), prunedCount: folded.length, context: { ...doc.context, compactions: 1 } };
        return { doc, folded, next };
      };
      const texts = (ms: readonly { content: string }[] | undefined) => ms?.map((m) => m.content);

      it("takes the folded messages out of the history into the pruned log and applies the header, as a whole commit would", async () => {
        const s = await fresh();
        const { doc, folded, next } = await folding(s, [0, 1, 3]);
        const saved = await s.commit({ session: next, expectedRevision: doc.revision, pruned: { append: folded }, reason: "compacted", folds: true });
        assert.equal(saved.revision, doc.revision + 1);
        assert.deepEqual(saved, { ...next, revision: doc.revision + 1 });
        assert.deepEqual((await s.get(doc.id))?.session, saved);
        assert.deepEqual(texts(await s.readPruned(doc.id)), ["m0", "m1", "m3"]);
        assert.deepEqual(
          (await s.list()).items.filter((x) => x.id === doc.id).map((x) => [x.revision, x.messageCount]),
          [[saved.revision, 3]],
        );
        // A stale fold is refused and writes nothing; appends and commits go on from the fold.
        await rejectsWith(s.commit({ session: next, expectedRevision: doc.revision, pruned: { append: folded }, reason: "compacted", folds: true }), "CONFLICT");
        const more = await appendTo(s, saved, [testMessage("after the fold")]);
        assert.deepEqual((await s.get(doc.id))?.session, more);
        const edited = await save(s, { ...more, channel: "edited" }, more.revision);
        assert.deepEqual(
          [texts((await s.get(doc.id))?.session.messages), texts(await s.readPruned(doc.id))],
          [
            ["m2", "m4", "m5", "after the fold"],
            ["m0", "m1", "m3"],
          ],
        );
        assert.equal((await s.get(doc.id))?.session.revision, edited.revision);
      });

      it("a fold the stored history does not match is saved as the whole document it carries", async () => {
        const s = await fresh();
        const { doc, folded, next } = await folding(s, [0, 1]);
        // The caller's document also lost m5, which the store holds: the store must not keep it.
        const skewed = { ...next, messages: next.messages.filter((m) => m.content !== "m5") };
        const saved = await s.commit({ session: skewed, expectedRevision: doc.revision, pruned: { append: folded }, reason: "compacted", folds: true });
        assert.deepEqual(texts((await s.get(doc.id))?.session.messages), ["m2", "m3", "m4"]);
        assert.deepEqual((await s.get(doc.id))?.session, saved);
        assert.deepEqual(texts(await s.readPruned(doc.id)), ["m0", "m1"]);
      });
    });

    describe("store-wide counts, prefix lookup, revision peek", () => {
      it("stats() agrees with a full list at the same cutoff", async () => {
        const s = await fresh();
        await create(s, testSession({ kind: "dm", status: "active", lastActivityAt: "2025-01-03T12:00:00.000Z" }));
        await create(s, testSession({ kind: "group", status: "active", lastActivityAt: "2025-01-01T12:00:00.000Z" }));
        await create(s, testSession({ kind: "isolated", status: "archived", archivedAt: "2025-01-02T00:00:00.000Z" }));
        const cutoff = "2025-01-02T12:00:00.000Z";
        const stats = await s.stats(cutoff);
        assert.equal(stats.total, 3);
        assert.deepEqual(stats.byStatus, { created: 0, active: 1, expired: 1, archived: 1 });
        assert.deepEqual(stats.byKind, { dm: 1, group: 1, isolated: 1 });
        assert.deepEqual((await s.stats(null)).byStatus, { created: 0, active: 2, expired: 0, archived: 1 });
      });

      it("findByIdPrefix finds the sessions whose id starts with the prefix, at most the limit", async () => {
        const s = await fresh();
        const docs = [await create(s, testSession()), await create(s, testSession()), await create(s, testSession())];
        const target = docs[1] ?? assert.fail();
        assert.deepEqual(
          (await s.findByIdPrefix(target.id.slice(0, 30), 5)).map((x) => x.id),
          [target.id],
        );
        const shared = docs.map((d) => d.id.slice(0, 8));
        const common = shared.every((p) => p === shared[0]) ? (shared[0] ?? "") : "";
        if (common !== "") assert.equal((await s.findByIdPrefix(common, 2)).length, 2);
        assert.deepEqual(await s.findByIdPrefix("ffffffff", 5), []);
      });

      it("revisionOf tells the stored revision without loading, null when absent", async () => {
        const s = await fresh();
        const doc = await create(s, testSession());
        await save(s, doc, 1);
        assert.equal(await s.revisionOf(doc.id), 2);
        assert.equal(await s.revisionOf(testId()), null);
      });
    });

    describe("find or create the live session of a key", () => {
      it("20 concurrent callers for one key get one session, created once", async () => {
        const s = await fresh();
        const key = "dm:telegram:race";
        let made = 0;
        const results = await Promise.all(
          Array.from({ length: 20 }, () =>
            s.findOrCreateLive(key, null, () => {
              made++;
              return testSession({ key, kind: "dm", channel: "telegram" });
            }),
          ),
        );
        assert.equal(new Set(results.map((r) => r.session.id)).size, 1);
        assert.equal(results.filter((r) => r.created).length, 1);
        assert.ok(made >= 1);
        assert.equal((await s.list({ key })).total, 1);
      });

      it("an expired or archived session of the key is not live: a new one is created", async () => {
        const s = await fresh();
        const key = "dm:telegram:old";
        const stale = await create(s, testSession({ key, status: "active", lastActivityAt: "2025-01-01T00:00:00.000Z" }));
        const cutoff = "2025-01-02T00:00:00.000Z";
        const fresh1 = await s.findOrCreateLive(key, cutoff, () => testSession({ key, lastActivityAt: "2025-01-03T00:00:00.000Z" }));
        assert.equal(fresh1.created, true);
        assert.notEqual(fresh1.session.id, stale.id);
        assert.equal((await s.findOrCreateLive(key, cutoff, () => assert.fail("must not create again"))).session.id, fresh1.session.id);
        await save(s, { ...fresh1.session, status: "archived", archivedAt: "2025-01-03T00:00:00.000Z" }, fresh1.session.revision);
        const third = await s.findOrCreateLive(key, cutoff, () => testSession({ key, lastActivityAt: "2025-01-04T00:00:00.000Z" }));
        assert.equal(third.created, true);
        assert.equal((await s.list({ key })).total, 3);
      });
    });

    describe("change notifications", () => {
      it("a change made through another instance reaches a watcher; the watcher's own changes do not", async (t) => {
        const first = await open();
        try {
          if (first.reopen === undefined) return t.skip("this backend keeps no data another instance can open");
          const a = first.store;
          const b = await first.reopen();
          const seen: StoreChange[] = [];
          const stop = a.watch((c) => seen.push(c));
          try {
            const own = await create(a, testSession());
            const theirs = await create(b, testSession({ key: "dm:telegram:theirs" }));
            await b.commit({ session: theirs, expectedRevision: 1, reason: "appended" });
            await b.delete(theirs.id);
            const deadline = Date.now() + 5000;
            while (seen.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
            assert.deepEqual(
              seen.map((c) => [c.id, c.revision, c.reason]),
              [
                [theirs.id, 1, "created"],
                [theirs.id, 2, "appended"],
                [theirs.id, 0, "deleted"],
              ],
            );
            assert.equal(seen[0]?.key, "dm:telegram:theirs");
            assert.ok(!seen.some((c) => c.id === own.id), "an instance is not told of its own changes");
          } finally {
            stop();
            await b.close();
          }
        } finally {
          await first.store.close();
          await first.cleanup();
        }
      });
    });

    describe("maintenance, size, description, text probe", () => {
      it("maintenance of a clean store removes nothing and changes no answer", async () => {
        const s = await fresh();
        const a = await create(s, testSession());
        const b = await create(s, testSession());
        const before = await s.list();
        const dry = await s.maintain({ dryRun: true });
        assert.deepEqual(dry, { leftoversRemoved: 0, indexRebuilt: false, quarantined: [] });
        const report = await s.maintain();
        assert.equal(report.leftoversRemoved, 0);
        assert.deepEqual(report.quarantined, []);
        assert.deepEqual(await s.list(), before);
        assert.deepEqual(new Set((await s.list()).items.map((i) => i.id)), new Set([a.id, b.id]));
      });

      it("the size grows with what is stored and shrinks when it is deleted", async () => {
        const s = await fresh();
        const empty = await s.sizeOnDisk();
        const doc = await create(s, richSession());
        const full = await s.sizeOnDisk();
        assert.ok(full > empty, `${full} > ${empty}`);
        await s.delete(doc.id);
        assert.ok((await s.sizeOnDisk()) < full);
      });

      it("describe names the backend and where the data lives, without credentials", async () => {
        const s = await fresh();
        const d = await s.describe();
        assert.equal(d.backend, s.kind);
        assert.ok(d.location.length > 0);
        assert.doesNotMatch(d.location, /\/\/[^/@]*:[^/@]*@/, "no password in the location");
      });

      it("mayContain never rules out a session that holds the text, in any case, in its pruned history when asked", async () => {
        const s = await fresh();
        const doc = await create(s, testSession({ messages: [testMessage("The Invoice PO-77 is late")] }));
        await s.commit({ session: doc, expectedRevision: 1, pruned: { append: [testMessage("an old Parcel number 4411")] } });
        await appendTo(s, { ...doc, revision: 2 }, [testMessage("appended Zebra crossing")]);
        assert.equal(await s.mayContain(doc.id, "invoice po-77", false), true);
        assert.equal(await s.mayContain(doc.id, "ZEBRA", false), true);
        assert.equal(await s.mayContain(doc.id, "parcel number", true), true);
        assert.equal(typeof (await s.mayContain(doc.id, "nothing like it", true)), "boolean");
      });
    });
  });
}
