import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { isOpenclawError } from "../../src/errors.js";
import { openTestManager } from "../helpers/manager-open.js";

type Env = Awaited<ReturnType<typeof openTestManager>>;

describe("origin and labels", () => {
  let env: Env;
  before(async () => {
    env = await openTestManager();
  });
  after(async () => env.cleanup());

  it("a session keeps where its conversation takes place, as its latest message describes it", async () => {
    const first = await env.manager.receive({ channel: "Slack", senderId: "U1", groupId: "C1", displayName: "Ada", subject: "Launch prep" }, "hello");
    assert.deepEqual(first.origin, { channel: "slack", subject: "Launch prep" }, "a group is named by its subject, not by whoever spoke");
    const next = await env.manager.receive({ channel: "slack", senderId: "U2", groupId: "C1", displayName: "Grace", subject: "Launch prep 🚀", accountId: "bot-2" }, "hi");
    assert.deepEqual(next.origin, { channel: "slack", subject: "Launch prep 🚀", account: "bot-2" });
    assert.deepEqual((await env.manager.get(next.id)).origin, next.origin, "a changed origin is stored, not only returned");
    const quiet = await env.manager.receive({ channel: "slack", senderId: "U3", groupId: "C1" }, "no names given");
    assert.equal(quiet.origin?.subject, "Launch prep 🚀", "a message that names nothing keeps what was known");
  });

  it("a DM is named by the person's display name, which follows a rename", async () => {
    await env.manager.receive({ channel: "telegram", senderId: "42", displayName: "Grace" }, "hi");
    const renamed = await env.manager.receive({ channel: "telegram", senderId: "42", displayName: "Grace H." }, "new name");
    assert.deepEqual((await env.manager.get(renamed.id)).origin, { channel: "telegram", displayName: "Grace H." });
    assert.equal(renamed.messages.length, 2);
  });

  it("a label is set, shown in the listing with the origin, and removed", async () => {
    const s = await env.manager.get("group:slack:C1");
    const labelled = await env.manager.edit(s.id, { label: "Launch war room" });
    assert.equal(labelled.label, "Launch war room");
    const listed = (await env.manager.list()).items.find((x) => x.id === s.id);
    assert.equal(listed?.label, "Launch war room");
    assert.deepEqual(listed?.origin, { channel: "slack", subject: "Launch prep 🚀", account: "bot-2" });
    const cleared = await env.manager.edit(s.id, { label: "" });
    assert.equal("label" in cleared, false);
    assert.equal((await env.manager.list()).items.find((x) => x.id === s.id)?.label, undefined);
  });

  it("labels and names with control characters or over 256 characters are refused, storing nothing", async () => {
    const s = await env.manager.get("group:slack:C1");
    for (const label of ["bad\u0007bell", "x".repeat(257), "   "]) {
      await assert.rejects(env.manager.edit(s.id, { label }), (e) => isOpenclawError(e, "INVALID_ARGUMENT"));
    }
    await assert.rejects(env.manager.receive({ channel: "slack", senderId: "U9", displayName: "line\nbreak" }, "hi"), (e) => isOpenclawError(e, "INVALID_ARGUMENT") && e.message.includes("display name"));
    assert.equal((await env.manager.list({ key: "dm:slack:U9" })).total, 0);
  });
});
