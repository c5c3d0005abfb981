import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { ErrorCode } from "../../src/errors.js";
import { isOpenclawError } from "../../src/errors.js";
import type { Session } from "../../src/session/types.js";
import type { SessionStore } from "../../src/store/store.js";
import { richSession, testId, testMessage, testSession } from "../helpers/store-sessions.js";

/** What a backend's test file hands the suite: a fresh, empty store and how to dispose of it. */
export type OpenStore = () => Promise<{ store: SessionStore; cleanup: () => Promise<void> }>;

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
        const saved = await s.put(doc, null);
        assert.equal(saved.revision, 1);
        assert.deepEqual(saved, { ...doc, revision: 1 });
        const loaded = await s.get(doc.id);
        assert.ok(loaded);
        assert.equal(JSON.stringify(loaded.session), JSON.stringify(saved));
        assert.ok(loaded.sizeBytes >= 0);
      });

      it("each save increments the revision by one", async () => {
        const s = await fresh();
        let doc = await s.put(testSession(), null);
        for (let i = 1; i <= 3; i++) {
          doc = await s.put({ ...doc, messages: [...doc.messages, testMessage(`m${i}`)] }, doc.revision);
          assert.equal(doc.revision, i + 1);
        }
        const loaded = await s.get(doc.id);
        assert.equal(loaded?.session.revision, 4);
        assert.equal(loaded?.session.messages.length, 3);
      });

      it("a stale revision is refused with CONFLICT and nothing changes", async () => {
        const s = await fresh();
        const v1 = await s.put(testSession(), null);
        const v2 = await s.put({ ...v1, channel: "second" }, 1);
        await rejectsWith(s.put({ ...v1, channel: "stale" }, 1), "CONFLICT");
        await rejectsWith(s.put({ ...v1, channel: "future" }, 7), "CONFLICT");
        assert.deepEqual((await s.get(v1.id))?.session, v2);
      });

      it("creating a session that already exists is refused with CONFLICT", async () => {
        const s = await fresh();
        const v1 = await s.put(testSession(), null);
        await rejectsWith(s.put({ ...v1, channel: "again" }, null), "CONFLICT");
        assert.deepEqual((await s.get(v1.id))?.session, v1);
      });

      it("saving against a revision of a session that does not exist is refused", async () => {
        const s = await fresh();
        const doc = testSession();
        await rejectsWith(s.put(doc, 3), "CONFLICT");
        assert.equal(await s.get(doc.id), undefined);
      });

      it("an invalid document is refused and nothing is written", async () => {
        const s = await fresh();
        const bad = { ...testSession(), status: "bogus" } as unknown as Session;
        await rejectsWith(s.put(bad, null), "INVALID_ARGUMENT");
        assert.equal(await s.get(bad.id), undefined);
        assert.equal((await s.list()).total, 0);
      });

      it("callers never share objects with the store", async () => {
        const s = await fresh();
        const doc = testSession({ messages: [testMessage("original")] });
        const saved = await s.put(doc, null);
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
        const doc = await s.put(testSession(), null);
        await s.appendPruned(doc.id, [testMessage("old")]);
        const keep = await s.put(testSession(), null);
        assert.equal(await s.delete(doc.id), true);
        assert.equal(await s.get(doc.id), undefined);
        assert.deepEqual(await s.readPruned(doc.id), []);
        assert.deepEqual((await s.list()).items.map((i) => i.id), [keep.id]);
        assert.equal(await s.delete(doc.id), false);
        assert.equal(await s.delete(testId()), false);
      });

      it("a deleted id can be created again from scratch", async () => {
        const s = await fresh();
        const doc = await s.put(testSession(), null);
        await s.delete(doc.id);
        const again = await s.put({ ...doc, channel: "reborn" }, null);
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
          const doc = await s.put(testSession(spec), null);
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
        assert.deepEqual([...page1.items, ...page2.items, ...page3.items].map((i) => i.id), all);
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
        let doc = await s.put(testSession({ systemPrompts: [{ id: testId(), content: "sys", tokens: 5, createdAt: at(0) }] }), null);
        doc = await s.put({ ...doc, status: "active", messages: [testMessage("hello", at(1), { tokens: 7 }), testMessage("there", at(2), { tokens: 3 })] }, 1);
        const [item] = (await s.list()).items;
        assert.ok(item);
        assert.equal(item.id, doc.id);
        assert.equal(item.revision, 2);
        assert.equal(item.messageCount, 2);
        assert.equal(item.tokens, 15);
        assert.equal(item.status, "active");
        assert.equal(item.key, doc.key);
        assert.ok(item.sizeBytes >= 0);
      });
    });

    describe("pruned-history log", () => {
      it("appended messages read back oldest first, across appends", async () => {
        const s = await fresh();
        const doc = await s.put(testSession(), null);
        const batch1 = [testMessage("p1"), testMessage("p2")];
        const batch2 = [testMessage("p3", undefined, { pinned: true, toolCalls: [{ id: "c", name: "t", arguments: "{}" }] })];
        await s.appendPruned(doc.id, batch1);
        await s.appendPruned(doc.id, []);
        await s.appendPruned(doc.id, batch2);
        assert.deepEqual(await s.readPruned(doc.id), [...batch1, ...batch2]);
      });

      it("replacing the log swaps its whole content, and an empty replacement clears it", async () => {
        const s = await fresh();
        const doc = await s.put(testSession(), null);
        await s.appendPruned(doc.id, [testMessage("a"), testMessage("b")]);
        const replacement = [testMessage("c")];
        await s.replacePruned(doc.id, replacement);
        assert.deepEqual(await s.readPruned(doc.id), replacement);
        await s.appendPruned(doc.id, [testMessage("d")]);
        assert.deepEqual((await s.readPruned(doc.id)).map((m) => m.content), ["c", "d"]);
        await s.replacePruned(doc.id, []);
        assert.deepEqual(await s.readPruned(doc.id), []);
      });

      it("an unknown session has an empty log", async () => {
        assert.deepEqual(await store.readPruned(testId()), []);
      });

      it("an invalid pruned message is refused and nothing is appended", async () => {
        const s = await fresh();
        const doc = await s.put(testSession(), null);
        const bad = { ...testMessage("x"), role: "robot" } as unknown as ReturnType<typeof testMessage>;
        await rejectsWith(s.appendPruned(doc.id, [testMessage("ok"), bad]), "INVALID_ARGUMENT");
        assert.deepEqual(await s.readPruned(doc.id), []);
      });
    });

    describe("ids from outside", () => {
      for (const [label, hostile] of HOSTILE_IDS) {
        it(`an id that is a ${label} is refused with INVALID_ID by every method, writing nothing`, async () => {
          const s = await fresh();
          const before = await s.sizeOnDisk();
          const bad = hostile as string;
          let ran = false;
          const attempts: Promise<unknown>[] = [
            s.get(bad),
            s.put({ ...testSession(), id: bad }, null),
            s.delete(bad),
            s.appendPruned(bad, [testMessage("x")]),
            s.readPruned(bad),
            s.replacePruned(bad, [testMessage("x")]),
            s.withLock(bad, async () => {
              ran = true;
            }),
          ];
          for (const attempt of attempts) await rejectsWith(attempt, "INVALID_ID");
          assert.equal(ran, false, "withLock must not run its callback for an invalid id");
          assert.equal((await s.list()).total, 0);
          assert.equal(await s.sizeOnDisk(), before);
        });
      }
    });

    describe("locking", () => {
      it("50 concurrent read-modify-write callers on one id all land, in arrival order", async () => {
        const s = await fresh();
        const doc = await s.put(testSession(), null);
        await Promise.all(
          Array.from({ length: 50 }, (_, n) =>
            s.withLock(doc.id, async () => {
              const loaded = (await s.get(doc.id)) ?? assert.fail("session vanished");
              const cur = loaded.session;
              await s.put({ ...cur, messages: [...cur.messages, testMessage(`seq ${n}`)] }, cur.revision);
            }),
          ),
        );
        const final = (await s.get(doc.id))?.session ?? assert.fail("session vanished");
        assert.deepEqual(final.messages.map((m) => m.content), Array.from({ length: 50 }, (_, n) => `seq ${n}`));
        assert.equal(final.revision, 51);
      });

      it("sessions with different ids update in parallel without interfering", async () => {
        const s = await fresh();
        const docs = await Promise.all(Array.from({ length: 12 }, () => s.put(testSession(), null)));
        await Promise.all(
          docs.flatMap((doc) =>
            Array.from({ length: 4 }, (_, n) =>
              s.withLock(doc.id, async () => {
                const cur = (await s.get(doc.id))?.session ?? assert.fail("session vanished");
                await s.put({ ...cur, messages: [...cur.messages, testMessage(`${doc.id}:${n}`)] }, cur.revision);
              }),
            ),
          ),
        );
        for (const doc of docs) {
          const cur = (await s.get(doc.id))?.session ?? assert.fail("session vanished");
          assert.deepEqual(cur.messages.map((m) => m.content), [0, 1, 2, 3].map((n) => `${doc.id}:${n}`));
        }
        const page = await s.list();
        assert.equal(page.total, 12);
        assert.ok(page.items.every((i) => i.revision === 5 && i.messageCount === 4));
      });

      it("withLock returns the callback's value and is re-entrant for the same id", async () => {
        const s = await fresh();
        const doc = await s.put(testSession(), null);
        const result = await s.withLock(doc.id, () =>
          s.withLock(doc.id, async () => {
            await s.put({ ...doc, channel: "nested" }, 1);
            await s.appendPruned(doc.id, [testMessage("nested")]);
            return "done";
          }),
        );
        assert.equal(result, "done");
        assert.equal((await s.get(doc.id))?.session.channel, "nested");
      });

      it("a callback that throws releases the lock and the error reaches the caller", async () => {
        const s = await fresh();
        const id = testId();
        await assert.rejects(s.withLock(id, async () => Promise.reject(new Error("boom"))), /boom/);
        assert.equal(await s.withLock(id, async () => 7), 7);
      });
    });

    describe("maintenance", () => {
      it("maintain reports its work and the store keeps answering the same", async () => {
        const s = await fresh();
        const a = await s.put(testSession(), null);
        const b = await s.put(testSession(), null);
        const before = await s.list();
        const dry = await s.maintain({ dryRun: true });
        assert.equal(dry.indexRebuilt, false);
        assert.deepEqual(dry.quarantined, []);
        const report = await s.maintain();
        assert.ok(report.leftoversRemoved >= 0);
        assert.deepEqual(report.quarantined, []);
        assert.deepEqual(await s.list(), before);
        assert.deepEqual(new Set((await s.list()).items.map((i) => i.id)), new Set([a.id, b.id]));
        assert.ok((await s.sizeOnDisk()) >= 0);
      });
    });
  });
}
