import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { parseKey } from "../../src/session/keys.js";
import { openTestManager } from "../helpers/manager-open.js";

type Env = Awaited<ReturnType<typeof openTestManager>>;
const user = (content: string) => ({ role: "user" as const, content });

describe("hook and job sessions", () => {
  let env: Env;
  before(async () => {
    env = await openTestManager();
  });
  after(async () => env.cleanup());

  it("a hook keeps one isolated session per hook name, apart from every conversation", async () => {
    const m = env.manager;
    const first = await m.record({ inbound: { channel: "hook", senderId: "github", hook: "github" } }, user("push to main"));
    const second = await m.record({ inbound: { channel: "hook", senderId: "github", hook: "github" } }, user("PR #7 merged"));
    const other = await m.record({ inbound: { channel: "hook", senderId: "gmail", hook: "gmail" } }, user("new mail"));
    const dm = await m.record({ inbound: { channel: "hook", senderId: "github" } }, user("a DM from a user named github"));
    assert.deepEqual([first.session.key, first.session.kind, first.session.channel], ["hook:github", "isolated", "hook"]);
    assert.equal(second.session.id, first.session.id);
    assert.equal(second.session.messages.length, 2);
    assert.notEqual(other.session.id, first.session.id);
    assert.notEqual(dm.session.id, first.session.id);
    assert.equal((await m.get("hook:github")).id, first.session.id, "a hook key is a reference");
    assert.equal((await m.sessionForKey("hook:github")).id, first.session.id);
  });

  it("a job run gets a fresh session, key job:<name>:<run>; messages of one run share it", async () => {
    const m = env.manager;
    const r1 = await m.record({ inbound: { channel: "job", senderId: "cron", job: { name: "nightly", run: "2026-03-01" } } }, user("summarise the day"));
    const again = await m.record({ inbound: { channel: "job", senderId: "cron", job: { name: "nightly", run: "2026-03-01" } } }, user("and the open tickets"));
    const r2 = await m.record({ inbound: { channel: "job", senderId: "cron", job: { name: "nightly", run: "2026-03-02" } } }, user("summarise the day"));
    assert.deepEqual([r1.session.key, r1.session.kind, r1.session.channel, r1.created], ["job:nightly:2026-03-01", "isolated", "job", true]);
    assert.deepEqual([again.session.id, again.created], [r1.session.id, false]);
    assert.notEqual(r2.session.id, r1.session.id);
    assert.equal(r2.started?.previousId ?? null, null, "another run is not a reset of the previous one");
    const anonymous = await m.record({ inbound: { channel: "job", senderId: "cron", job: { name: "nightly" } } }, user("no run id"));
    const anonymous2 = await m.record({ inbound: { channel: "job", senderId: "cron", job: { name: "nightly" } } }, user("no run id"));
    assert.match(anonymous.session.key, /^job:nightly:[0-9a-f-]{36}$/);
    assert.notEqual(anonymous2.session.id, anonymous.session.id, "without a run id every message is a run of its own");
    const jobs = (await m.list({ kind: "isolated" })).items.filter((s) => s.channel === "job");
    assert.equal(jobs.length, 4);
  });

  it("hook and job keys are checked like every key", async () => {
    assert.deepEqual(parseKey("job:nightly:r1"), { kind: "isolated", channel: "nightly", subject: "r1", thread: null });
    for (const bad of ["hook:", "hook:a:b", "job:nightly", "job:a:b:c", "hook:../x"]) assert.throws(() => parseKey(bad), /invalid routing key/, bad);
    await assert.rejects(env.manager.record({ inbound: { channel: "hook", senderId: "x", hook: "bad name" } }, user("x")), /invalid hook name "bad name"/);
    await assert.rejects(env.manager.record({ inbound: { channel: "slack", senderId: "x", groupId: "C1", hook: "h" } }, user("x")), /a hook session cannot also be a group or thread session/);
    await assert.rejects(env.manager.record({ inbound: { channel: "x", senderId: "x", hook: "h", job: { name: "j" } } }, user("x")), /give one of hook, job/);
  });
});
