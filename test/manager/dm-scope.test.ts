import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { isOpenclawError } from "../../src/errors.js";
import { SessionManager } from "../../src/manager/manager.js";
import { testStoreUri } from "../helpers/test-store.js";

// One store, opened with one config after another, as an operator changing
// sessions.dmScope between two runs of the gateway would.
function storeWithConfigs() {
  const dir = mkdtempSync(join(tmpdir(), "oc-scope-"));
  const uri = testStoreUri();
  const open: SessionManager[] = [];
  return {
    async with(sessions: Record<string, unknown>): Promise<SessionManager> {
      await Promise.all(open.splice(0).map((m) => m.close()));
      const m = await SessionManager.open({ stateDir: dir, config: { sessions }, warn: () => undefined, ...(uri !== undefined ? { storeUri: uri } : {}) });
      open.push(m);
      return m;
    },
    async cleanup() {
      await Promise.all(open.splice(0).map((m) => m.close()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

describe("DM scope", () => {
  const envs: Array<ReturnType<typeof storeWithConfigs>> = [];
  const fresh = () => {
    const e = storeWithConfigs();
    envs.push(e);
    return e;
  };
  after(async () => {
    for (const e of envs) await e.cleanup();
  });

  it("per-channel-peer stays the default: one session per channel and person, today's key shape", async () => {
    const m = await fresh().with({});
    const a = await m.receive({ channel: "telegram", senderId: "42" }, "hi");
    const b = await m.receive({ channel: "slack", senderId: "42" }, "hi");
    assert.equal(a.key, "dm:telegram:42");
    assert.equal(b.key, "dm:slack:42");
    assert.notEqual(a.id, b.id);
  });

  it("main: every DM shares one session, each message keeps its sender and channel", async () => {
    const m = await fresh().with({ dmScope: "main" });
    await m.receive({ channel: "telegram", senderId: "alice" }, "from alice");
    const s = await m.receive({ channel: "slack", senderId: "bob" }, "from bob");
    assert.equal(s.key, "dm:main");
    assert.deepEqual(
      s.messages.map((x) => [x.sender, x.channel]),
      [
        ["alice", "telegram"],
        ["bob", "slack"],
      ],
    );
    assert.deepEqual(s.participants, ["alice", "bob"]);
    assert.deepEqual(s.origin, { channel: "telegram" }, "the shared session keeps its first origin: no one person names it");
    assert.equal((await m.get("dm:main")).id, s.id, "dm:main is a key a ref can name");
  });

  it("per-peer: one session per person across channels; groups are untouched", async () => {
    const m = await fresh().with({ dmScope: "per-peer" });
    const a = await m.receive({ channel: "telegram", senderId: "alice" }, "one");
    const b = await m.receive({ channel: "discord", senderId: "alice" }, "two");
    const c = await m.receive({ channel: "discord", senderId: "bob" }, "three");
    assert.equal(a.key, "dm:peer:alice");
    assert.equal(a.id, b.id);
    assert.notEqual(c.id, a.id);
    const g = await m.receive({ channel: "slack", senderId: "alice", groupId: "C1" }, "group");
    assert.equal(g.key, "group:slack:C1");
  });

  it("per-account-channel-peer: one session per bot account, channel and person", async () => {
    const m = await fresh().with({ dmScope: "per-account-channel-peer" });
    const a = await m.receive({ channel: "telegram", senderId: "42", accountId: "support-bot" }, "to support");
    const b = await m.receive({ channel: "telegram", senderId: "42", accountId: "sales-bot" }, "to sales");
    const c = await m.receive({ channel: "telegram", senderId: "42" }, "no account");
    assert.equal(a.key, "dm:telegram:support-bot:42");
    assert.equal(b.key, "dm:telegram:sales-bot:42");
    assert.equal(c.key, "dm:telegram:default:42");
    assert.equal(new Set([a.id, b.id, c.id]).size, 3);
    assert.equal(a.origin?.account, "support-bot");
    const t = await m.receive({ channel: "telegram", senderId: "42", accountId: "support-bot", threadId: "T1" }, "in a thread");
    assert.equal(t.key, "dm:telegram:support-bot:42:thread:T1");
  });

  it("a channel named like a scope's pseudo-channel is refused for DMs, before anything is stored", async () => {
    const m = await fresh().with({});
    for (const channel of ["main", "peer", "Linked"]) {
      await assert.rejects(m.receive({ channel, senderId: "x" }, "hi"), (e) => isOpenclawError(e, "INVALID_KEY") && e.message.includes("reserved"));
    }
    assert.equal((await m.list({ status: "all" })).total, 0);
  });

  it("a scope change is reported, and rescope --dry-run plans without changing anything", async () => {
    const env = fresh();
    let m = await env.with({});
    const tg = await m.receive({ channel: "telegram", senderId: "alice" }, "on telegram");
    const dc = await m.receive({ channel: "discord", senderId: "alice" }, "later on discord");
    const bob = await m.receive({ channel: "telegram", senderId: "bob" }, "bob");
    const grp = await m.receive({ channel: "slack", senderId: "alice", groupId: "C1" }, "group");
    assert.deepEqual((await m.status()).dmScope, { scope: "per-channel-peer", mismatched: [] });
    m = await env.with({ dmScope: "per-peer" });
    const status = await m.status();
    assert.equal(status.dmScope.scope, "per-peer");
    assert.deepEqual(new Set(status.dmScope.mismatched.map((s) => s.key)), new Set([tg.key, dc.key, bob.key]));
    const plan = await m.rescope({ dryRun: true });
    assert.equal(plan.applied, false);
    const byId = new Map(plan.steps.map((s) => [s.id, s]));
    assert.deepEqual(byId.get(dc.id), { id: dc.id, key: "dm:discord:alice", lastActivityAt: dc.lastActivityAt, to: "dm:peer:alice", action: "move" });
    assert.equal(byId.get(tg.id)?.action, "archive");
    assert.equal(byId.get(tg.id)?.into, dc.id, "the most recently active session keeps the merged key");
    assert.equal(byId.get(bob.id)?.to, "dm:peer:bob");
    assert.equal(byId.has(grp.id), false);
    assert.equal((await m.get(tg.id)).key, "dm:telegram:alice", "a dry run changes nothing");
  });

  it("rescope applies the plan: moved sessions take new messages, merged ones are archived intact", async () => {
    const env = fresh();
    let m = await env.with({});
    const tg = await m.receive({ channel: "telegram", senderId: "alice" }, "on telegram");
    const dc = await m.receive({ channel: "discord", senderId: "alice" }, "later on discord");
    m = await env.with({ dmScope: "per-peer" });
    const done = await m.rescope();
    assert.equal(done.applied, true);
    const moved = await m.get(dc.id);
    assert.equal(moved.key, "dm:peer:alice");
    const archived = await m.get(tg.id);
    assert.equal(archived.status, "archived");
    assert.equal(archived.key, "dm:telegram:alice");
    assert.equal(archived.messages[0]?.content, "on telegram");
    const next = await m.receive({ channel: "telegram", senderId: "alice" }, "back on telegram");
    assert.equal(next.id, dc.id, "the next message reaches the moved session");
    assert.deepEqual((await m.status()).dmScope.mismatched, []);
    assert.deepEqual((await m.rescope({ dryRun: true })).steps, [], "a second rescope has nothing to do");
  });

  it("moving back from main needs a person: dm:main is archived, and a key that already has a live session keeps it", async () => {
    const env = fresh();
    let m = await env.with({ dmScope: "main" });
    const shared = await m.receive({ channel: "telegram", senderId: "alice" }, "shared");
    m = await env.with({});
    const plan = await m.rescope({ dryRun: true });
    assert.deepEqual(
      plan.steps.map((s) => [s.id, s.to, s.action]),
      [[shared.id, null, "archive"]],
    );
    await m.rescope();
    assert.equal((await m.get(shared.id)).status, "archived");

    const env2 = fresh();
    m = await env2.with({});
    const old = await m.receive({ channel: "telegram", senderId: "carol" }, "old scope");
    m = await env2.with({ dmScope: "per-peer" });
    const live = await m.receive({ channel: "telegram", senderId: "carol" }, "new scope");
    assert.equal(live.key, "dm:peer:carol");
    const steps = (await m.rescope()).steps;
    assert.deepEqual(
      steps.map((s) => [s.id, s.action, s.into]),
      [[old.id, "archive", live.id]],
    );
  });

  it("per-peer sessions move back per channel by their origin", async () => {
    const env = fresh();
    let m = await env.with({ dmScope: "per-peer" });
    const s = await m.receive({ channel: "telegram", senderId: "dave" }, "hi");
    m = await env.with({ dmScope: "per-account-channel-peer" });
    const plan = await m.rescope({ dryRun: true });
    assert.deepEqual(
      plan.steps.map((x) => [x.id, x.to]),
      [[s.id, "dm:telegram:default:dave"]],
    );
  });
});
