import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isOpenclawError } from "../../src/errors.js";
import { archive, assertWritable, dueForArchive, effectiveStatus, evaluateExpiry, expiryCutoff, markActivity, unarchive } from "../../src/session/lifecycle.js";
import { newSession } from "../../src/session/new.js";
import type { Session } from "../../src/session/types.js";

const DAY = 86_400_000;
const t0 = new Date("2026-01-10T12:00:00.000Z");
const at = (ms: number) => new Date(t0.getTime() + ms);

function fresh(): Session {
  return newSession({ id: "0193b2c4-5d6e-7f80-9a1b-2c3d4e5f6a7b", key: "dm:telegram:42", kind: "dm", channel: "telegram", now: t0 });
}

describe("session lifecycle", () => {
  it("a new session starts as created", () => {
    assert.equal(fresh().status, "created");
  });

  it("created becomes active on its first message", () => {
    const s = markActivity(fresh(), at(1000));
    assert.equal(s.status, "active");
    assert.equal(s.lastActivityAt, at(1000).toISOString());
  });

  it("an active session expires once lastActivityAt + expirationMs is in the past", () => {
    const s = markActivity(fresh(), t0);
    assert.equal(evaluateExpiry(s, DAY, at(DAY)).status, "active", "exactly at the boundary it is still active");
    const expired = evaluateExpiry(s, DAY, at(DAY + 1));
    assert.equal(expired.status, "expired");
    assert.equal(expired.expiredAt, at(DAY).toISOString());
  });

  it("expirationMs 0 means a session never expires", () => {
    const s = markActivity(fresh(), t0);
    assert.equal(evaluateExpiry(s, 0, at(1000 * DAY)).status, "active");
    assert.equal(expiryCutoff(0, at(5)), null);
  });

  it("expired session takes no new message", () => {
    const s = markActivity(fresh(), t0);
    assert.throws(
      () => assertWritable(s, DAY, at(2 * DAY)),
      (e) => isOpenclawError(e, "SESSION_EXPIRED"),
    );
    assert.doesNotThrow(() => assertWritable(s, DAY, at(DAY / 2)));
  });

  it("archived session is read-only until unarchived", () => {
    const s = archive(markActivity(fresh(), at(5)), at(10));
    assert.equal(s.status, "archived");
    assert.throws(
      () => assertWritable(s, DAY, at(20)),
      (e) => isOpenclawError(e, "SESSION_ARCHIVED"),
    );
    const back = unarchive(s, DAY, at(30));
    assert.equal(back.status, "active");
    assert.equal(back.archivedAt, null);
    assert.doesNotThrow(() => assertWritable(back, DAY, at(40)));
  });

  it("unarchiving a long-idle session leaves it expired rather than reviving it", () => {
    const s = archive(markActivity(fresh(), t0), at(10));
    assert.equal(unarchive(s, DAY, at(3 * DAY)).status, "expired");
  });

  it("archiving twice and unarchiving a live session are refused", () => {
    const s = archive(markActivity(fresh(), t0), at(10));
    assert.throws(
      () => archive(s, at(20)),
      (e) => isOpenclawError(e, "INVALID_ARGUMENT"),
    );
    assert.throws(
      () => unarchive(fresh(), DAY, at(20)),
      (e) => isOpenclawError(e, "INVALID_ARGUMENT"),
    );
  });

  it("effective status never turns archived into expired", () => {
    const cutoff = expiryCutoff(DAY, at(10 * DAY));
    assert.equal(effectiveStatus({ status: "archived", lastActivityAt: t0.toISOString() }, cutoff), "archived");
    assert.equal(effectiveStatus({ status: "created", lastActivityAt: t0.toISOString() }, cutoff), "expired");
  });

  it("policy archives a session only after it has been expired for archiveAfterMs", () => {
    const s = markActivity(fresh(), t0);
    assert.equal(dueForArchive(s, DAY, 7 * DAY, at(8 * DAY)), false);
    assert.equal(dueForArchive(s, DAY, 7 * DAY, at(8 * DAY + 1)), true);
    assert.equal(dueForArchive(s, 0, 7 * DAY, at(100 * DAY)), false, "never-expiring sessions are never policy-archived");
  });
});
