import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SessionManager } from "../../src/manager/manager.js";
import { MemoryData, MemoryStore } from "../../src/store/memory/memory-store.js";
import { openTestManager } from "../helpers/manager-open.js";

const dm = { channel: "telegram", senderId: "42" };
const say = (content: string) => ({ role: "user" as const, content });

/** A second manager on the same data, as another process would open it. */
async function secondManager(t: Awaited<ReturnType<typeof openTestManager>>): Promise<SessionManager> {
  return SessionManager.open({ stateDir: t.dir, config: {}, warn: () => {}, ...(t.storeUri !== undefined ? { storeUri: t.storeUri } : {}) });
}

describe("routing remembers a key's live session, and checks it every time", () => {
  it("a key's next messages do not search the store for its live session", async () => {
    const store = new MemoryStore(new MemoryData());
    let searches = 0;
    const find = store.findOrCreateLive.bind(store);
    store.findOrCreateLive = (...args) => {
      searches++;
      return find(...args);
    };
    const m = await SessionManager.open({ store, config: {}, warn: () => {} });
    try {
      const first = await m.record({ inbound: dm }, say("one"));
      for (let i = 0; i < 10; i++) assert.equal((await m.record({ inbound: dm }, say(`more ${i}`))).session.id, first.session.id);
      assert.equal(searches, 1);
      assert.equal((await m.get(first.session.id)).messages.length, 11);
    } finally {
      await m.close();
    }
  });

  it("a session archived by another process is not routed to again", async () => {
    const t = await openTestManager();
    const other = await secondManager(t);
    try {
      const first = await t.manager.record({ inbound: dm }, say("one"));
      await other.archive(first.session.id);
      const next = await t.manager.record({ inbound: dm }, say("two"));
      assert.notEqual(next.session.id, first.session.id);
      assert.equal(next.started?.reason, "previous session archived");
      assert.equal((await t.manager.get(first.session.id)).messages.length, 1);
    } finally {
      await other.close();
      await t.cleanup();
    }
  });

  it("a session deleted by another process is not routed to again", async () => {
    const t = await openTestManager();
    const other = await secondManager(t);
    try {
      const first = await t.manager.record({ inbound: dm }, say("one"));
      await other.delete(first.session.id);
      const next = await t.manager.record({ inbound: dm }, say("two"));
      assert.notEqual(next.session.id, first.session.id);
      assert.equal(next.created, true);
    } finally {
      await other.close();
      await t.cleanup();
    }
  });

  it("a remembered session that expired meanwhile gives way to a new one", async () => {
    const t = await openTestManager({ config: { sessions: { expirationMs: 60_000 } } });
    try {
      const first = await t.manager.record({ inbound: dm }, say("one"));
      t.advance(61_000);
      const next = await t.manager.record({ inbound: dm }, say("two"));
      assert.notEqual(next.session.id, first.session.id);
      assert.equal(next.started?.reason, "previous session expired");
    } finally {
      await t.cleanup();
    }
  });

  it("a session another process started for the key after an archive is found, not a third one made", async () => {
    const t = await openTestManager();
    const other = await secondManager(t);
    try {
      const first = await t.manager.record({ inbound: dm }, say("one"));
      await other.archive(first.session.id);
      const theirs = await other.record({ inbound: dm }, say("from the other process"));
      const ours = await t.manager.record({ inbound: dm }, say("two"));
      assert.equal(ours.session.id, theirs.session.id);
      const live = (await t.manager.list({ key: "dm:telegram:42", status: "all" })).items.filter((x) => x.status === "active" || x.status === "created");
      assert.equal(live.length, 1);
    } finally {
      await other.close();
      await t.cleanup();
    }
  });
});
