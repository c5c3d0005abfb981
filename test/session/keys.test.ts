import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isOpenclawError } from "../../src/errors.js";
import { isValidId, uuidv7 } from "../../src/session/ids.js";
import { dmKey, groupKey, ID_ALPHABET, isolatedKey, parentKey, parseKey, threadKey } from "../../src/session/keys.js";

describe("routing keys and ids", () => {
  it("builds the documented key shapes", () => {
    assert.equal(dmKey("telegram", "42"), "dm:telegram:42");
    assert.equal(groupKey("slack", "C0123"), "group:slack:C0123");
    assert.equal(threadKey(groupKey("slack", "C0123"), "1700000000.0001"), "group:slack:C0123:thread:1700000000.0001");
    assert.equal(isolatedKey("research", "abc"), "isolated:research:abc");
  });

  it("parses keys back, threads included", () => {
    assert.deepEqual(parseKey("group:discord:987:thread:55"), { kind: "group", channel: "discord", subject: "987", thread: "55" });
    assert.deepEqual(parseKey("dm:telegram:-100123"), { kind: "dm", channel: "telegram", subject: "-100123", thread: null });
  });

  for (const hostile of ["../../etc/passwd", "dm:../..:x", "dm:telegram:a/../b", "dm:web:%2e%2e", "dm:web:a%b", "dm:telegram:a\u0000b", "dm:telegram", "x:y:z", "dm:t:" + "a".repeat(600), "dm:telegram:42:other:1", ""]) {
    it(`refuses the hostile or malformed key ${JSON.stringify(hostile.slice(0, 30))}`, () => {
      assert.throws(
        () => parseKey(hostile),
        (e) => isOpenclawError(e, "INVALID_KEY") && !e.message.includes("\n"),
      );
    });
  }

  it("accepts the ids real chat platforms use, and parses them back unchanged", () => {
    const cases: Array<[string, string, string]> = [
      ["matrix", "@alice:matrix.org", "dm:matrix:@alice%3Amatrix.org"],
      ["ms-teams", "29:1abc", "dm:ms-teams:29%3A1abc"],
      ["web", "user/1", "dm:web:user/1"],
    ];
    for (const [channel, id, key] of cases) {
      assert.equal(dmKey(channel, id), key);
      assert.deepEqual(parseKey(key), { kind: "dm", channel, subject: id, thread: null });
    }
    const room = threadKey(groupKey("matrix", "!room:matrix.org"), "$ev:x".replace("$", "~"));
    assert.equal(room, "group:matrix:!room%3Amatrix.org:thread:~ev%3Ax");
    assert.deepEqual(parseKey(room), { kind: "group", channel: "matrix", subject: "!room:matrix.org", thread: "~ev:x" });
    assert.equal(parentKey(room), "group:matrix:!room%3Amatrix.org");
  });

  it("refuses ids that could read as a path or break a key, with one line naming the alphabet", () => {
    for (const bad of ["../../x", "a/./b", "..", "a%3Ab", "a b", "a\u202eb", "x".repeat(129)]) {
      assert.throws(
        () => dmKey("web", bad),
        (e) => isOpenclawError(e, "INVALID_KEY") && !e.message.includes("\n") && e.message.includes(ID_ALPHABET),
      );
    }
  });

  it("refuses hostile segments when building keys", () => {
    assert.throws(
      () => dmKey("telegram", "../x"),
      (e) => isOpenclawError(e, "INVALID_KEY"),
    );
    assert.throws(
      () => dmKey("tele gram", "1"),
      (e) => isOpenclawError(e, "INVALID_KEY"),
    );
    assert.throws(
      () => groupKey("slack", ".."),
      (e) => isOpenclawError(e, "INVALID_KEY"),
    );
  });

  it("ids are time-ordered UUIDv7 strings", () => {
    const zero = new Uint8Array(10);
    const ff = new Uint8Array(10).fill(255);
    const a = uuidv7(1_700_000_000_000, ff);
    const b = uuidv7(1_700_000_000_001, zero);
    assert.ok(isValidId(a) && isValidId(b));
    assert.ok(a < b, "a later millisecond sorts later whatever the random bits");
    assert.equal(a[14], "7");
  });

  it("only lower-case UUIDs are ids", () => {
    assert.equal(isValidId("../../etc/passwd"), false);
    assert.equal(isValidId("0193B2C4-5D6E-7F80-9A1B-2C3D4E5F6A7B"), false);
    assert.equal(isValidId("0193b2c4-5d6e-7f80-9a1b-2c3d4e5f6a7b"), true);
  });
});
