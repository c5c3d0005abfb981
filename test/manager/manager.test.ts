import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { isOpenclawError } from "../../src/errors.js";
import { openTestManager } from "../helpers/manager-open.js";

type Env = Awaited<ReturnType<typeof openTestManager>>;

for (const storeUri of ["file", "memory:"]) {
  describe(`SessionManager over ${storeUri === "file" ? "the file store" : "the memory store"}`, () => {
    let env: Env;
    before(async () => {
      env = await openTestManager(storeUri === "file" ? {} : { storeUri });
    });
    after(async () => env.cleanup());

    it("first message turns a created session active and caches its token count", async () => {
      const s = await env.manager.create({ key: "dm:telegram:1" });
      assert.equal(s.status, "created");
      const after1 = (await env.manager.record({ ref: s.id }, { role: "user", content: "hello there", sender: "1" })).session;
      assert.equal(after1.status, "active");
      assert.equal(after1.messages.length, 1);
      assert.ok((after1.messages[0]?.tokens ?? 0) > 0);
      assert.deepEqual(after1.participants, ["1"]);
    });

    it("finds a session by id, by unique prefix and by routing key", async () => {
      const s = await env.manager.create({ key: "dm:slack:U77" });
      assert.equal((await env.manager.get(s.id)).id, s.id);
      assert.equal((await env.manager.get(s.id.slice(0, 23))).id, s.id);
      assert.equal((await env.manager.get("dm:slack:U77")).id, s.id);
    });

    it("an unknown reference says no session matches it", async () => {
      await assert.rejects(env.manager.get("dm:slack:nobody"), { message: 'no session matches "dm:slack:nobody"' });
      await assert.rejects(env.manager.get("ffffffff-ffff-7fff-bfff-ffffffffffff"), (e) => isOpenclawError(e, "NOT_FOUND"));
    });

    it("a hostile reference is refused with one line", async () => {
      for (const ref of ["../../etc/passwd", "..", "a\u0000b", "x".repeat(5000)]) {
        await assert.rejects(env.manager.get(ref), (e) => isOpenclawError(e) && !e.message.includes("\n") && e.message.length < 400);
      }
    });

    it("a too-short prefix is refused rather than guessed", async () => {
      await assert.rejects(env.manager.get("01"), (e) => isOpenclawError(e, "INVALID_ARGUMENT") && /at least 6/.test(e.message));
    });

    it("a message over maxMessageBytes is refused and nothing is recorded", async () => {
      const s = await env.manager.create({ key: "dm:telegram:big" });
      await assert.rejects(env.manager.record({ ref: s.id }, { role: "user", content: "x".repeat(2_000_000) }), (e) => isOpenclawError(e, "MESSAGE_TOO_LARGE"));
      assert.equal((await env.manager.get(s.id)).messages.length, 0);
    });

    it("clear removes the history and keeps id, key, preferences, tools and system prompt", async () => {
      const s = await env.manager.create({ key: "dm:telegram:clear" });
      await env.manager.setPreferences(s.id, { lang: "fr", units: { temp: "C" } });
      await env.manager.setTools(s.id, { deny: ["shell"] });
      await env.manager.setSystemPrompt(s.id, "You are terse.");
      await env.manager.record({ ref: s.id }, { role: "user", content: "one" });
      await env.manager.record({ ref: s.id }, { role: "assistant", content: "two" });
      const report = await env.manager.clear(s.id);
      assert.deepEqual(report, { id: s.id, messages: 2, pruned: 0, summary: false });
      const after = await env.manager.get(s.id);
      assert.equal(after.key, "dm:telegram:clear");
      assert.equal(after.messages.length, 0);
      assert.deepEqual(after.preferences, { lang: "fr", units: { temp: "C" } });
      assert.deepEqual(after.tools.deny, ["shell"]);
      assert.equal(after.systemPrompts[0]?.content, "You are terse.");
    });

    it("preferences are typed JSON values that can be read and unset", async () => {
      const s = await env.manager.create({ key: "dm:telegram:prefs" });
      await env.manager.setPreferences(s.id, { verbose: true, maxResults: 5, name: "Ada" });
      assert.equal(await env.manager.getPreference(s.id, "maxResults"), 5);
      await env.manager.setPreferences(s.id, {}, ["verbose"]);
      assert.deepEqual((await env.manager.get(s.id)).preferences, { maxResults: 5, name: "Ada" });
      await assert.rejects(env.manager.setPreferences(s.id, { "../x": 1 }), (e) => isOpenclawError(e, "INVALID_ARGUMENT"));
    });

    it("archived sessions leave the default list, refuse messages, and come back with unarchive", async () => {
      const s = await env.manager.create({ key: "group:discord:arch" });
      await env.manager.record({ ref: s.id }, { role: "user", content: "hi", sender: "u1" });
      await env.manager.archive(s.id);
      assert.ok(!(await env.manager.list()).items.some((x) => x.id === s.id));
      assert.ok((await env.manager.list({ status: "archived" })).items.some((x) => x.id === s.id));
      await assert.rejects(env.manager.record({ ref: s.id }, { role: "user", content: "more" }), (e) => isOpenclawError(e, "SESSION_ARCHIVED"));
      await env.manager.unarchive(s.id);
      assert.equal((await env.manager.record({ ref: s.id }, { role: "user", content: "more", sender: "u1" })).session.messages.length, 2);
    });

    it("delete removes the session and a second delete finds nothing", async () => {
      const s = await env.manager.create({ key: "dm:telegram:del" });
      await env.manager.delete(s.id);
      await assert.rejects(env.manager.get(s.id), (e) => isOpenclawError(e, "NOT_FOUND"));
      await assert.rejects(env.manager.delete(s.id), (e) => isOpenclawError(e, "NOT_FOUND"));
    });

    it("export then delete then import then export is identical apart from exportedAt", async () => {
      const s = await env.manager.create({ key: "dm:telegram:rt" });
      await env.manager.setPreferences(s.id, { tz: "Europe/Paris" });
      await env.manager.record({ ref: s.id }, { role: "user", content: "ref INV-2024-0042", sender: "rt", pinned: true });
      await env.manager.record({ ref: s.id }, { role: "assistant", content: "noted" });
      await env.manager.foldNow(s.id);
      const first = await env.manager.exportSessions([s.id]);
      assert.ok(first.sessions[0]!.prunedHistory.length > 0 || first.sessions[0]!.messages.length === 2);
      await env.manager.delete(s.id);
      await env.manager.importSessions(JSON.parse(JSON.stringify(first)));
      const second = await env.manager.exportSessions([s.id]);
      assert.deepEqual({ ...second, exportedAt: "x" }, { ...first, exportedAt: "x" });
    });

    it("import refuses an existing id unless overwrite, and writes nothing when it refuses", async () => {
      const s = await env.manager.create({ key: "dm:telegram:imp" });
      const doc = await env.manager.exportSessions([s.id]);
      const other = await env.manager.create({ key: "dm:telegram:imp2" });
      const both = await env.manager.exportSessions([other.id]);
      await env.manager.delete(other.id);
      const combined = { ...doc, sessions: [...both.sessions, ...doc.sessions] };
      await assert.rejects(env.manager.importSessions(combined), (e) => isOpenclawError(e, "ALREADY_EXISTS"));
      await assert.rejects(env.manager.get(other.id), (e) => isOpenclawError(e, "NOT_FOUND"), "the new session was not written either");
      const report = await env.manager.importSessions(combined, { overwrite: true });
      assert.deepEqual(report, { imported: [other.id], overwritten: [s.id], skipped: [], importedArchived: [], archivedLive: [] });
    });
  });
}
