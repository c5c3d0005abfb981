import assert from "node:assert/strict";
import { test } from "node:test";
import { SessionManager } from "../../src/manager/manager.js";
import { MemoryStore } from "../../src/store/memory/memory-store.js";

test("a message routed to a live session is recorded even when the write outlasts the expiry", async () => {
  // A clock that moves 400 ms every time it is read: routing, building and writing the message
  // together take longer than the 1 s expiry, as on a slow store or a busy machine.
  let t = Date.parse("2026-03-01T10:00:00.000Z");
  const now = () => new Date((t += 400));
  const m = await SessionManager.open({ store: new MemoryStore(), config: { sessions: { expirationMs: 1000 } }, now, warn: () => {} });
  try {
    const first = await m.record({ inbound: { channel: "telegram", senderId: "1" } }, { role: "user", content: "hello" });
    assert.equal(first.created, true);
    assert.equal(first.session.messages.length, 1);
    // A reference names a session, not a routing decision: an expired one is still refused.
    t += 5000;
    await assert.rejects(m.record({ ref: first.session.id }, { role: "user", content: "late" }), /has expired and takes no new messages/);
    const next = await m.record({ inbound: { channel: "telegram", senderId: "1" } }, { role: "user", content: "back" });
    assert.notEqual(next.session.id, first.session.id);
    assert.equal(next.started?.reason, "previous session expired");
  } finally {
    await m.close();
  }
});
