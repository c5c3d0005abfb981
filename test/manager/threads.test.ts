import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { openTestManager } from "../helpers/manager-open.js";
import { nestThreads } from "../../src/session/threads.js";

type Env = Awaited<ReturnType<typeof openTestManager>>;

describe("threads", () => {
  let env: Env;
  before(async () => {
    env = await openTestManager({ config: { sessions: { tools: { group: { deny: ["shell"] } } } } });
  });
  after(async () => env.cleanup());

  it("a thread's first session takes its parent's preferences, tool policy and system prompts", async () => {
    const parent = await env.manager.route({ channel: "slack", senderId: "U1", groupId: "C1" });
    await env.manager.edit(parent.id, { set: { language: "fr" }, deny: ["fs.*"], system: "Answer in French." });
    const r = await env.manager.record({ inbound: { channel: "slack", senderId: "U2", groupId: "C1", threadId: "T1" } }, { role: "user", content: "in a thread", sender: "U2" });
    const thread = r.session;
    assert.equal(thread.key, "group:slack:C1:thread:T1");
    assert.notEqual(thread.id, parent.id);
    assert.deepEqual(thread.preferences, { language: "fr" });
    assert.deepEqual(thread.tools.deny, ["shell", "fs.*"]);
    assert.deepEqual(
      thread.systemPrompts.map((p) => p.content),
      ["Answer in French."],
    );
    assert.equal(r.started?.parentId, parent.id);
    const ctx = JSON.stringify((await env.manager.buildContext(thread.id)).messages);
    assert.ok(ctx.includes("Answer in French.") && !ctx.includes("I vote"), "the thread sees the parent's settings, not its history");
  });

  it("the thread's settings are its own afterwards: changing the parent does not reach it", async () => {
    const parent = await env.manager.get("group:slack:C1");
    await env.manager.edit(parent.id, { set: { language: "de" } });
    const thread = await env.manager.route({ channel: "slack", senderId: "U2", groupId: "C1", threadId: "T1" });
    assert.deepEqual(thread.preferences, { language: "fr" });
  });

  it("a thread without a parent session starts with the defaults; DM threads nest under every scope's key", async () => {
    const lone = await env.manager.route({ channel: "slack", senderId: "U1", groupId: "C9", threadId: "T1" });
    assert.deepEqual(lone.preferences, {});
    assert.deepEqual(lone.tools.deny, ["shell"]);
    const dm = await env.manager.route({ channel: "telegram", senderId: "42" });
    await env.manager.setPreferences(dm.id, { tone: "brief" });
    const dmThread = await env.manager.route({ channel: "telegram", senderId: "42", threadId: "7" });
    assert.equal(dmThread.key, "dm:telegram:42:thread:7");
    assert.deepEqual(dmThread.preferences, { tone: "brief" });
  });

  it("a list places threads under their parent", async () => {
    const page = (await env.manager.list()).items;
    const nested = nestThreads(page);
    const at = nested.findIndex((s) => s.key === "group:slack:C1");
    assert.deepEqual([nested[at + 1]?.key, nested[at + 1]?.nested, nested[at + 1]?.parentKey], ["group:slack:C1:thread:T1", true, "group:slack:C1"]);
    const lone = nested.find((s) => s.key === "group:slack:C9:thread:T1");
    assert.deepEqual([lone?.nested, lone?.parentKey], [false, "group:slack:C9"], "a thread whose parent is not listed stays in place");
    assert.equal(nested.length, page.length);
  });
});
