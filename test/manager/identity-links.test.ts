import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { openTestManager } from "../helpers/manager-open.js";

type Env = Awaited<ReturnType<typeof openTestManager>>;
const links = { "person-1": ["telegram:123", "Discord:987"] };

describe("identity links", () => {
  let env: Env;
  before(async () => {
    env = await openTestManager({ config: { sessions: { dmScope: "per-peer", identityLinks: links } } });
  });
  after(async () => env.cleanup());

  it("with per-peer, a linked person shares one DM session across channels; messages keep their channel and sender", async () => {
    await env.manager.receive({ channel: "telegram", senderId: "123" }, "from telegram");
    const s = await env.manager.receive({ channel: "discord", senderId: "987" }, "from discord");
    assert.equal(s.key, "dm:peer:person-1");
    assert.deepEqual(
      s.messages.map((m) => [m.sender, m.channel, m.content]),
      [
        ["123", "telegram", "from telegram"],
        ["987", "discord", "from discord"],
      ],
    );
    assert.deepEqual(s.participants, ["person-1"], "participants show the person, not each identity");
    assert.equal(s.origin?.channel, "discord", "the origin follows the latest channel");
  });

  it("an unlinked identity with the same user id stays apart", async () => {
    const other = await env.manager.receive({ channel: "slack", senderId: "123" }, "not linked");
    assert.equal(other.key, "dm:peer:123");
  });

  it("a message recorded by reference with the address it came from counts its sender as the person", async () => {
    const s = await env.manager.get("dm:peer:person-1");
    const r = await env.manager.record({ ref: s.id, via: { channel: "telegram", senderId: "123" } }, { role: "user", content: "by ref", sender: "123" });
    assert.deepEqual(r.session.participants, ["person-1"]);
    assert.equal(r.message.channel, "telegram");
  });
});

describe("identity links changed later", () => {
  it("linking two identities reports their sessions; rescope merges them into the person's key", async () => {
    const first = await openTestManager();
    try {
      const tg = await first.manager.receive({ channel: "telegram", senderId: "123" }, "older");
      first.advance(60_000);
      const dc = await first.manager.receive({ channel: "discord", senderId: "987" }, "newer");
      const { SessionManager } = await import("../../src/manager/manager.js");
      const at = first.manager.now();
      await first.manager.close();
      const m = await SessionManager.open({
        stateDir: first.dir,
        config: { sessions: { identityLinks: links } },
        warn: () => undefined,
        now: () => at,
        ...(first.storeUri !== undefined ? { storeUri: first.storeUri } : {}),
      });
      try {
        assert.deepEqual(new Set((await m.status()).dmScope.mismatched.map((s) => s.key)), new Set([tg.key, dc.key]));
        const report = await m.rescope();
        assert.deepEqual(
          report.steps.map((s) => [s.id, s.to, s.action]),
          [
            [dc.id, "dm:linked:person-1", "move"],
            [tg.id, "dm:linked:person-1", "archive"],
          ],
        );
        const next = await m.receive({ channel: "telegram", senderId: "123" }, "after linking");
        assert.equal(next.id, dc.id);
      } finally {
        await m.close();
      }
    } finally {
      await first.cleanup();
    }
  });
});
