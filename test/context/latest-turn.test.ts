import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { buildContext } from "../../src/context/build.js";
import { isOpenclawError } from "../../src/errors.js";
import { openTestManager } from "../helpers/manager-open.js";
import { msg, session } from "../helpers/context-fixtures.js";

const MIB = 1_048_576;

/** 1 MiB of varied prose, so the token count is realistic rather than one repeated token. */
function oneMiB(): string {
  const words = ["invoice", "parcel", "Lisbon", "refund", "RSV-8812-ZT", "meeting", "tomorrow", "budget", "+44 20 7946 0958", "résumé"];
  const parts: string[] = [];
  let bytes = 0;
  for (let i = 0; bytes < MIB - 64; i++) {
    const part = `${words[i % words.length]} ${i} `;
    parts.push(part);
    bytes += Buffer.byteLength(part);
  }
  return parts.join("") + ".".repeat(MIB - bytes);
}

describe("the latest user turn always reaches the model", () => {
  it("a 1 MiB message on a 128k-token model is refused at append with one clear line, and nothing is recorded", async () => {
    const env = await openTestManager({ storeUri: "memory:", config: { sessions: { model: "gpt-4o" } } });
    try {
      const big = oneMiB();
      assert.equal(Buffer.byteLength(big), MIB);
      const s = await env.manager.create({ key: "dm:web:u1" });
      await assert.rejects(env.manager.record({ ref: s.id }, { role: "user", content: big, sender: "u1" }), (e) => {
        assert.ok(isOpenclawError(e, "MESSAGE_TOO_LARGE"), String(e));
        assert.match(e.message, /^message is \d+ tokens, over the limit of 61952 tokens \(sessions\.maxMessageTokens\) so it could not reach the model whole; split it or raise the limit; nothing was recorded$/);
        return true;
      });
      assert.equal((await env.manager.get(s.id)).messages.length, 0);
      // Routed: no session is started for a refused message.
      await assert.rejects(env.manager.receive({ channel: "web", senderId: "u2" }, big), (e) => isOpenclawError(e, "MESSAGE_TOO_LARGE"));
      assert.equal((await env.manager.list()).total, 1);
      // A message under the limit goes through and is sent whole.
      const ok = (await env.manager.record({ ref: s.id }, { role: "user", content: "Short question about RSV-8812-ZT?", sender: "u1" })).session;
      const built = await env.manager.buildContext(ok.id);
      assert.equal(built.latestTurnDropped, false);
      assert.equal(built.included.length, 1);
    } finally {
      await env.cleanup();
    }
  });

  it("an explicit sessions.maxMessageTokens is the limit", async () => {
    const env = await openTestManager({ storeUri: "memory:", config: { sessions: { maxMessageTokens: 50 } } });
    try {
      const s = await env.manager.create({ key: "dm:web:u1" });
      await assert.rejects(env.manager.record({ ref: s.id }, { role: "user", content: "word ".repeat(200) }), /over the limit of 50 tokens \(sessions\.maxMessageTokens\)/);
    } finally {
      await env.cleanup();
    }
  });

  it("a stored turn too large for the budget is reported as the latest turn, not as an older one", () => {
    const s = session();
    s.messages = [msg(0, { role: "user", content: "hello", tokens: 10 }), msg(1, { role: "assistant", content: "hi", tokens: 10 }), msg(2, { role: "user", content: "x".repeat(100), tokens: 5_000 })];
    const built = buildContext(s, 1_000);
    assert.equal(built.latestTurnDropped, true);
    assert.equal(built.latestTurnPartial, true);
    // The older turn is not sent either (it would open a gap), and is counted apart from the latest.
    assert.equal(built.droppedTurns, 1);
  });
});
