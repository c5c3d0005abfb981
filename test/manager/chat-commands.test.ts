import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseCommand } from "../../src/session/commands.js";
import { openTestManager } from "../helpers/manager-open.js";

const dm = { channel: "telegram", senderId: "42" };
const user = (content: string, sender: string | null = "42") => ({ role: "user" as const, content, sender });

describe("in-chat commands through record()", () => {
  it("/new and /reset start a fresh session for the key with carry-over; the command is answered, not stored", async () => {
    const env = await openTestManager();
    try {
      const m = env.manager;
      const first = await m.record({ inbound: dm }, user("call me Ada"));
      await m.setPreferences(first.session.id, { tone: "dry" });
      const r = await m.record({ inbound: dm }, user("/new"));
      assert.equal(r.command?.name, "new");
      assert.equal(r.command?.previousId, first.session.id);
      assert.match(r.command?.reply ?? "", /^New session started\. Settings were carried over/);
      assert.notEqual(r.session.id, first.session.id);
      assert.deepEqual([r.created, r.started?.reason, r.started?.previousId], [true, "reset by command", first.session.id]);
      assert.deepEqual(r.session.messages, [], "the command is not part of the new conversation");
      assert.deepEqual(r.session.preferences, { tone: "dry" });
      const old = await m.get(first.session.id);
      assert.deepEqual([old.status, old.messages.length], ["expired", 1]);
      const next = await m.record({ inbound: dm }, user("hello again"));
      assert.equal(next.session.id, r.session.id, "the key now routes to the fresh session");
      const reset = await m.record({ inbound: dm }, user("/reset"));
      assert.deepEqual([reset.command?.name, reset.command?.previousId], ["reset", r.session.id]);
      assert.notEqual(reset.session.id, r.session.id);
    } finally {
      await env.cleanup();
    }
  });

  it("/new <model> sets that session's model; /new on a key with no session just starts one", async () => {
    const env = await openTestManager();
    try {
      const m = env.manager;
      const r = await m.record({ inbound: { channel: "slack", senderId: "u1" } }, user("/new gpt-4o-mini", "u1"));
      assert.deepEqual([r.created, r.command?.previousId, r.command?.model], [true, null, "gpt-4o-mini"]);
      assert.equal(r.session.preferences.model, "gpt-4o-mini");
      assert.match(r.command?.reply ?? "", /Model: gpt-4o-mini\./);
      const status = await m.record({ inbound: { channel: "slack", senderId: "u1" } }, user("/status", "u1"));
      assert.match(status.command?.reply ?? "", /Model: gpt-4o-mini/);
    } finally {
      await env.cleanup();
    }
  });

  it("/compact [focus] folds now; /status reports context use, model and age", async () => {
    const env = await openTestManager();
    try {
      const m = env.manager;
      let id = "";
      for (let i = 0; i < 6; i++) {
        id = (await m.record({ inbound: dm }, user(`question ${i}: what about order #${1000 + i}?`))).session.id;
        await m.record({ ref: id }, { role: "assistant", content: `order #${1000 + i} ships Friday` });
      }
      env.advance(90 * 60_000);
      const status = await m.record({ ref: id }, user("/status"));
      assert.equal(status.command?.name, "status");
      const reply = status.command?.reply ?? "";
      assert.match(reply, new RegExp(`^Session ${id} \\(dm:telegram:42\\)`));
      assert.match(reply, /Model: gpt-4o\n/);
      assert.match(reply, /Context: [\d,]+ of 128,000 tokens \([\d.]+%\), 12 messages, 0 compactions/);
      assert.match(reply, /Age: 1 h 30 min \(started 2026-03-01T10:00:00.000Z\); resets 2026-03-02T10:00:00.000Z \(after 1 d idle\)/);
      const compact = await m.record({ ref: id }, user("/compact keep the order numbers"));
      assert.equal(compact.command?.name, "compact");
      assert.ok((compact.command?.folded ?? 0) > 0, compact.command?.reply);
      assert.match(compact.command?.reply ?? "", /^Compacted: \d+ messages folded into the summary\.$/);
      const after = await m.get(id);
      assert.ok(after.summary !== null);
      assert.ok(!after.messages.some((msg) => msg.content.startsWith("/")), "no command is stored");
      assert.equal((await m.prunedHistory(id)).filter((msg) => msg.content.startsWith("/")).length, 0);
    } finally {
      await env.cleanup();
    }
  });

  it("a command turned off, one with more words, or recorded with commands: false is an ordinary message", async () => {
    const env = await openTestManager({ config: { sessions: { commands: { status: false } } } });
    try {
      const m = env.manager;
      const s = await m.record({ inbound: dm }, user("/status"));
      assert.equal(s.command, undefined);
      assert.equal(s.session.messages.at(-1)?.content, "/status");
      assert.equal((await m.record({ inbound: dm }, user("/new chapter of my novel"))).command, undefined);
      assert.equal((await m.record({ inbound: dm }, user("/reset", null), { commands: false })).command, undefined);
      assert.equal((await m.record({ inbound: dm }, { role: "assistant", content: "/new" })).command, undefined);
      assert.equal((await m.record({ inbound: dm }, user("  /new  "))).command?.name, "new");
    } finally {
      await env.cleanup();
    }
    const off = await openTestManager({ config: { sessions: { commands: { enabled: false } } } });
    try {
      assert.equal((await off.manager.record({ inbound: dm }, user("/new"))).command, undefined);
    } finally {
      await off.cleanup();
    }
  });

  it("in a group, only the senders sessions.commands.groupSenders names may use them", async () => {
    const env = await openTestManager({ config: { sessions: { commands: { groupSenders: ["alice", "slack:bob"] } } } });
    try {
      const m = env.manager;
      const group = (senderId: string) => ({ channel: "slack", senderId, groupId: "C1" });
      const first = await m.record({ inbound: group("carol") }, user("/new", "carol"));
      assert.equal(first.command, undefined, "carol may not");
      assert.equal(first.session.messages.at(-1)?.content, "/new");
      const alice = await m.record({ inbound: group("alice") }, user("/status", "alice"));
      assert.equal(alice.command?.name, "status");
      const bob = await m.record({ inbound: group("bob") }, user("/reset", "bob"));
      assert.deepEqual([bob.command?.name, bob.command?.previousId], ["reset", first.session.id]);
      // DMs are not restricted.
      assert.equal((await m.record({ inbound: { channel: "slack", senderId: "carol" } }, user("/status", "carol"))).command?.name, "status");
    } finally {
      await env.cleanup();
    }
  });

  it("parses exactly the command shapes", () => {
    assert.deepEqual(parseCommand("/new"), { name: "new", model: null });
    assert.deepEqual(parseCommand("/new claude-sonnet-4"), { name: "new", model: "claude-sonnet-4" });
    assert.deepEqual(parseCommand("/compact"), { name: "compact", focus: null });
    assert.deepEqual(parseCommand("/compact the budget decisions"), { name: "compact", focus: "the budget decisions" });
    for (const no of ["/reset now", "/status?", "/news", "new", "please /new", "/new two words", "/STATUS"]) assert.equal(parseCommand(no), null, no);
  });
});
