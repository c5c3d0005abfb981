import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { openTestManager } from "../helpers/manager-open.js";

type Env = Awaited<ReturnType<typeof openTestManager>>;
const DAY = 86_400_000;

describe("routing through the manager", () => {
  let env: Env;
  before(async () => {
    env = await openTestManager({
      config: {
        sessions: {
          identityLinks: { "person-1": ["telegram:123", "discord:987"] },
          tools: { group: { deny: ["fs.*", "shell"] } },
        },
      },
    });
  });
  after(async () => env.cleanup());

  it("two users on one channel get two sessions and never see each other's history", async () => {
    const a = await env.manager.receive({ channel: "telegram", senderId: "alice" }, "my code is ALPHA-1");
    const b = await env.manager.receive({ channel: "telegram", senderId: "bob" }, "my code is BRAVO-2");
    assert.notEqual(a.id, b.id);
    const ctxA = JSON.stringify((await env.manager.buildContext(a.id)).messages);
    const ctxB = JSON.stringify((await env.manager.buildContext(b.id)).messages);
    assert.ok(ctxA.includes("ALPHA-1") && !ctxA.includes("BRAVO-2"));
    assert.ok(ctxB.includes("BRAVO-2") && !ctxB.includes("ALPHA-1"));
  });

  it("the same user on two channels gets two sessions unless linked", async () => {
    const t = await env.manager.receive({ channel: "telegram", senderId: "555" }, "hi");
    const d = await env.manager.receive({ channel: "discord", senderId: "555" }, "hi");
    assert.notEqual(t.id, d.id);
    const lt = await env.manager.receive({ channel: "telegram", senderId: "123" }, "from telegram");
    const ld = await env.manager.receive({ channel: "discord", senderId: "987" }, "from discord");
    assert.equal(lt.id, ld.id);
    assert.equal(ld.messages.length, 2);
  });

  it("a group session is shared, keeps every sender and labels them in the context", async () => {
    await env.manager.receive({ channel: "slack", senderId: "U1", groupId: "C1" }, "I vote pizza");
    const s = await env.manager.receive({ channel: "slack", senderId: "U2", groupId: "C1" }, "I vote sushi");
    assert.equal(s.key, "group:slack:C1");
    assert.deepEqual(
      s.messages.map((m) => m.sender),
      ["U1", "U2"],
    );
    assert.deepEqual(s.participants, ["U1", "U2"]);
    const text = JSON.stringify((await env.manager.buildContext(s.id)).messages);
    assert.ok(text.includes("U1") && text.includes("U2"));
  });

  it("group sessions get the group tool defaults from config; deny wins", async () => {
    const g = await env.manager.route({ channel: "slack", senderId: "U1", groupId: "C2" });
    assert.equal(env.manager.isToolAllowed(g, "fs.read"), false);
    assert.equal(env.manager.isToolAllowed(g, "web_search"), true);
    const d = await env.manager.route({ channel: "slack", senderId: "U1" });
    assert.equal(env.manager.isToolAllowed(d, "fs.read"), true);
    const edited = await env.manager.setTools(d.id, { deny: ["fs.write*"] });
    assert.equal(env.manager.isToolAllowed(edited, "fs.write_file"), false);
    assert.equal(env.manager.isToolAllowed(edited, "fs.read"), true);
  });

  it("a thread has its own session under its parent key", async () => {
    const parent = await env.manager.route({ channel: "slack", senderId: "U1", groupId: "C3" });
    const thread = await env.manager.route({ channel: "slack", senderId: "U1", groupId: "C3", threadId: "T9" });
    assert.notEqual(parent.id, thread.id);
    assert.equal(thread.key, "group:slack:C3:thread:T9");
  });

  it("isolated sessions never collide and are never returned by DM routing", async () => {
    const i1 = await env.manager.route({ channel: "cli", senderId: "op", isolated: "audit" });
    const i2 = await env.manager.route({ channel: "cli", senderId: "op", isolated: "audit" });
    assert.notEqual(i1.id, i2.id);
    assert.notEqual(i1.key, i2.key);
    const dm = await env.manager.route({ channel: "cli", senderId: "op" });
    assert.ok(![i1.id, i2.id].includes(dm.id));
    assert.equal(i1.kind, "isolated");
  });

  it("an isolated session's key ends with its own session id; a key made otherwise still resolves", async () => {
    const s = await env.manager.route({ channel: "cli", senderId: "op", isolated: "report" });
    assert.equal(s.key, `isolated:report:${s.id}`);
    assert.equal(await env.manager.resolve(s.key), s.id);
    const job = await env.manager.route({ channel: "cli", senderId: "op", job: { name: "nightly" } });
    assert.equal(job.key, `job:nightly:${job.id}`);
    // Stores written before kept a random id there: such keys are still read and found.
    const older = await env.manager.create({ key: "isolated:report:0190aaaa-bbbb-7ccc-8ddd-eeeeffff0000" });
    assert.notEqual(older.id, "0190aaaa-bbbb-7ccc-8ddd-eeeeffff0000");
    assert.equal(await env.manager.resolve("isolated:report:0190aaaa-bbbb-7ccc-8ddd-eeeeffff0000"), older.id);
    assert.equal((await env.manager.get(older.id)).key, "isolated:report:0190aaaa-bbbb-7ccc-8ddd-eeeeffff0000");
    // A caller that makes the key itself may give the id to put in it.
    const id = "0190aaaa-bbbb-7ccc-8ddd-eeeeffff0001";
    assert.equal((await env.manager.create({ key: `isolated:named:${id}`, id })).id, id);
    await assert.rejects(env.manager.create({ key: "isolated:named:x", id: "not-a-uuid" }), { code: "INVALID_ID" });
  });

  it("a message for an expired key starts a fresh session and the old one stays intact", async () => {
    const old = await env.manager.receive({ channel: "telegram", senderId: "exp" }, "first life");
    env.advance(DAY + 1);
    assert.equal((await env.manager.get(old.id)).status, "expired");
    const fresh = await env.manager.receive({ channel: "telegram", senderId: "exp" }, "second life");
    assert.notEqual(fresh.id, old.id);
    assert.equal(fresh.key, old.key);
    const oldAgain = await env.manager.get(old.id);
    assert.deepEqual(
      oldAgain.messages.map((m) => m.content),
      ["first life"],
    );
    assert.equal((await env.manager.get("dm:telegram:exp")).id, fresh.id, "the key now resolves to the new session");
    const exported = await env.manager.exportSessions([old.id]);
    assert.equal(exported.sessions[0]?.messages[0]?.content, "first life");
  });

  it("concurrent first messages for one key create exactly one session", async () => {
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => env.manager.receive({ channel: "telegram", senderId: "race" }, `m${i}`)));
    assert.equal(new Set(results.map((r) => r.id)).size, 1);
    assert.equal((await env.manager.get("dm:telegram:race")).messages.length, 20);
  });
});
