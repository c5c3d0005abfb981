import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isOpenclawError } from "../../src/errors.js";
import { openTestManager } from "../helpers/manager-open.js";

const rejectsWith = (p: Promise<unknown>, code: string, pattern?: RegExp) =>
  assert.rejects(p, (err: unknown) => {
    assert.ok(isOpenclawError(err), String(err));
    assert.equal(err.code, code, err.message);
    if (pattern !== undefined) assert.match(err.message, pattern);
    return true;
  });

describe("lifecycle rules the README states", () => {
  it("an archived session is read-only: edit, clear and message deletion are refused like an append, nothing changes", async () => {
    const env = await openTestManager();
    try {
      const m = env.manager;
      const s = await m.receive({ channel: "telegram", senderId: "ro" }, "hello");
      await m.archive(s.id);
      const before = await m.get(s.id);
      await rejectsWith(m.record({ ref: s.id }, { role: "user", content: "more" }), "SESSION_ARCHIVED");
      await rejectsWith(m.edit(s.id, { set: { units: "metric" } }), "SESSION_ARCHIVED", /archived and read-only: run "openclaw sessions unarchive/);
      await rejectsWith(m.setSystemPrompt(s.id, "Be brief."), "SESSION_ARCHIVED");
      await rejectsWith(m.clear(s.id), "SESSION_ARCHIVED");
      await rejectsWith(m.deleteMessage(s.id, before.messages[0]?.id ?? ""), "SESSION_ARCHIVED");
      assert.deepEqual(await m.get(s.id), before);
      // What stays allowed: export, unarchive, delete.
      assert.equal((await m.exportSessions([s.id])).sessions.length, 1);
      await m.unarchive(s.id);
      assert.equal((await m.edit(s.id, { set: { units: "metric" } })).preferences.units, "metric");
    } finally {
      await env.cleanup();
    }
  });

  it("unarchiving while another live session holds the key is refused, naming both; nothing changes", async () => {
    const env = await openTestManager();
    try {
      const m = env.manager;
      const first = await m.receive({ channel: "telegram", senderId: "dup" }, "one");
      await m.archive(first.id);
      const second = await m.receive({ channel: "telegram", senderId: "dup" }, "two");
      assert.notEqual(second.id, first.id, "an archived session is not live: the next message starts a new one");
      await rejectsWith(m.unarchive(first.id), "ALREADY_EXISTS", new RegExp(`cannot unarchive ${first.id}: session ${second.id} is already live for dm:telegram:dup`));
      assert.equal((await m.get(first.id)).status, "archived");
      assert.equal((await m.list({ key: "dm:telegram:dup" })).total, 1, "still one live session for the key");
      await m.archive(second.id);
      assert.equal((await m.unarchive(first.id)).status, "active");
      await rejectsWith(m.setArchived([second.id], "unarchive"), "ALREADY_EXISTS");
    } finally {
      await env.cleanup();
    }
  });

  it("an archived session that would come back expired does not clash with the live one", async () => {
    const env = await openTestManager({ config: { sessions: { expirationMs: 60_000 } } });
    try {
      const m = env.manager;
      const old = await m.receive({ channel: "telegram", senderId: "old" }, "one");
      await m.archive(old.id);
      env.advance(120_000);
      const live = await m.receive({ channel: "telegram", senderId: "old" }, "two");
      assert.equal((await m.unarchive(old.id)).status, "expired");
      assert.equal((await m.get(live.id)).status, "active");
    } finally {
      await env.cleanup();
    }
  });
});

describe("a key's next session after expiry", () => {
  it("carries over preferences, tool policy and system prompts, and says a new session was started and why", async () => {
    const env = await openTestManager({ config: { sessions: { expirationMs: 60_000 } } });
    try {
      const m = env.manager;
      const inbound = { channel: "telegram", senderId: "carry" };
      const first = await m.record({ inbound }, { role: "user", content: "hi", sender: "carry" });
      assert.deepEqual(first.started, { reason: "first message", previousId: null, carriedOver: false });
      await m.edit(first.session.id, { set: { units: "metric" }, deny: ["shell.*"], system: "Be brief." });
      env.advance(120_000);
      const next = await m.record({ inbound }, { role: "user", content: "back again", sender: "carry" });
      assert.notEqual(next.session.id, first.session.id);
      assert.deepEqual(next.started, { reason: "previous session expired", previousId: first.session.id, carriedOver: true });
      assert.equal(next.session.preferences.units, "metric");
      assert.deepEqual(next.session.tools.deny, ["shell.*"]);
      assert.deepEqual(
        next.session.systemPrompts.map((p) => p.content),
        ["Be brief."],
      );
      const same = await m.record({ inbound }, { role: "user", content: "still here", sender: "carry" });
      assert.equal(same.started, null, "no new session, nothing to report");
      await m.archive(next.session.id);
      const third = await m.record({ inbound }, { role: "user", content: "after archive", sender: "carry" });
      assert.equal(third.started?.reason, "previous session archived");
      assert.equal(third.session.preferences.units, "metric");
    } finally {
      await env.cleanup();
    }
  });

  it("a key's next session after expiry starts with the previous session's summary, marked as carried over", async () => {
    const env = await openTestManager({ config: { sessions: { expirationMs: 60_000, maxHistoryLength: 4, lowWaterMark: 0.5 } } });
    try {
      const m = env.manager;
      const inbound = { channel: "telegram", senderId: "returning" };
      const first = await m.receive(inbound, "My storage unit number is SU-40417.");
      for (let i = 0; i < 4; i++) await m.receive(inbound, `Chatting along, message ${i}.`);
      await m.idle();
      const before = await m.get(first.id);
      assert.ok(before.summary?.text.includes("SU-40417"), "the fact was folded into the summary");
      env.advance(120_000);
      const next = await m.record({ inbound }, { role: "user", content: "back again", sender: "returning" });
      assert.notEqual(next.session.id, first.id);
      const text = next.session.summary?.text ?? "";
      assert.ok(text.startsWith(`Carried over from the previous session of this key (${first.id}`), text);
      assert.ok(text.includes("SU-40417"), text);
      const built = await m.buildContext(next.session.id);
      assert.ok(
        built.messages.some((x) => x.role === "system" && x.content.includes("SU-40417")),
        "the model sees it",
      );
    } finally {
      await env.cleanup();
    }
  });

  it("what the previous session said after its last fold is carried over too, so a short session that never folded is not forgotten", async () => {
    const env = await openTestManager({ config: { sessions: { expirationMs: 60_000 } } });
    try {
      const m = env.manager;
      const inbound = { channel: "slack", senderId: "brief" };
      const first = await m.receive(inbound, "Please note my parking permit is PP-55813.");
      await m.record({ ref: first.id }, { role: "assistant", content: "Noted." });
      assert.equal((await m.get(first.id)).summary, null, "the short session never folded");
      env.advance(120_000);
      const next = await m.record({ inbound }, { role: "user", content: "What was my permit again?", sender: "brief" });
      assert.equal(next.started?.carriedOver, true);
      const summary = next.session.summary;
      assert.ok(summary !== null);
      assert.ok(summary.text.startsWith(`Carried over from the previous session of this key (${first.id}`), summary.text);
      assert.ok(summary.text.includes("PP-55813"), summary.text);
      assert.equal(summary.messageCount, 2);
      const built = await m.buildContext(next.session.id);
      const note = built.messages.find((x) => x.role === "system" && x.content.includes("PP-55813"))?.content ?? "";
      assert.equal(note.match(/Summary of /g)?.length, 1, `one header\n${note}`);
      assert.ok(note.startsWith("Carried over from the previous session of this key ("), note);
      // The previous session itself is unchanged: nothing was folded out of it.
      assert.equal((await m.get(first.id)).messages.length, 2);
    } finally {
      await env.cleanup();
    }
  });

  it("carried over again and again, a key's facts stay under one header and one carry-over line per generation at most", async () => {
    const env = await openTestManager({ config: { sessions: { expirationMs: 60_000, maxHistoryLength: 6, lowWaterMark: 0.5 } } });
    try {
      const m = env.manager;
      const inbound = { channel: "telegram", senderId: "regular" };
      const codes: string[] = [];
      let id = "";
      for (let generation = 0; generation < 4; generation++) {
        const code = `BADGE-${3100 + generation * 17}`;
        codes.push(code);
        const r = await m.record({ inbound }, { role: "user", content: `Today my visitor badge is ${code}.`, sender: "regular" });
        id = r.session.id;
        for (let i = 0; i < 8; i++) await m.receive(inbound, `Small talk ${generation}.${i}, nothing much.`);
        env.advance(120_000);
      }
      const text = (await m.get(id)).summary?.text ?? "";
      for (const c of codes.slice(0, -1)) assert.ok(text.includes(c), `${c} kept\n${text}`);
      assert.equal(text.match(/^Summary of /gm)?.length, 1, text);
      assert.ok((text.match(/Carried over from the previous session/g)?.length ?? 0) <= 2, text);
    } finally {
      await env.cleanup();
    }
  });

  it("sessions.carryOver { summary: false } carries the settings but not the summary", async () => {
    const env = await openTestManager({ config: { sessions: { expirationMs: 60_000, maxHistoryLength: 4, lowWaterMark: 0.5, carryOver: { summary: false } } } });
    try {
      const m = env.manager;
      const inbound = { channel: "telegram", senderId: "settings-only" };
      const first = await m.receive(inbound, "My storage unit number is SU-40417.");
      await m.edit(first.id, { system: "Be brief." });
      for (let i = 0; i < 4; i++) await m.receive(inbound, `Chatting along, message ${i}.`);
      await m.idle();
      assert.ok((await m.get(first.id)).summary !== null);
      env.advance(120_000);
      const next = await m.record({ inbound }, { role: "user", content: "back again", sender: "settings-only" });
      assert.equal(next.session.summary, null);
      assert.deepEqual(
        next.session.systemPrompts.map((p) => p.content),
        ["Be brief."],
      );
    } finally {
      await env.cleanup();
    }
  });

  it("sessions.carryOver: false starts from the defaults, and still says why", async () => {
    const env = await openTestManager({ config: { sessions: { expirationMs: 60_000, carryOver: false } } });
    try {
      const m = env.manager;
      const inbound = { channel: "telegram", senderId: "fresh" };
      const first = await m.receive(inbound, "hi");
      await m.edit(first.id, { set: { units: "metric" }, system: "Be brief." });
      env.advance(120_000);
      const next = await m.record({ inbound }, { role: "user", content: "again", sender: "fresh" });
      assert.deepEqual(next.started, { reason: "previous session expired", previousId: first.id, carriedOver: false });
      assert.deepEqual(next.session.preferences, {});
      assert.deepEqual(next.session.systemPrompts, []);
    } finally {
      await env.cleanup();
    }
  });
});

describe("tool messages", () => {
  it("a tool result for a call the session does not hold is refused, nothing recorded; a known call's result is kept", async () => {
    const env = await openTestManager();
    try {
      const m = env.manager;
      const s = await m.receive({ channel: "telegram", senderId: "tools" }, "look it up");
      await rejectsWith(m.record({ ref: s.id }, { role: "tool", content: "42", toolCallId: "call_unknown" }), "INVALID_ARGUMENT", /answers call "call_unknown", which session .* does not hold/);
      assert.equal((await m.get(s.id)).messages.length, 1);
      await m.record({ ref: s.id }, { role: "assistant", content: "", toolCalls: [{ id: "call_1", name: "lookup", arguments: "{}" }] });
      await m.record({ ref: s.id }, { role: "tool", content: "42", toolCallId: "call_1" });
      const built = await m.buildContext(s.id);
      assert.deepEqual(
        built.messages.map((x) => x.role),
        ["user", "assistant", "tool"],
        "the pair reaches the model",
      );
    } finally {
      await env.cleanup();
    }
  });
});
