import assert from "node:assert/strict";
import { test } from "node:test";
import { clashError, clashPolicy, liveClashes, type LiveCandidate } from "../../src/session/live-keys.js";

const s = (id: string, key: string, status: LiveCandidate["status"], lastActivityAt = "2025-01-01T10:00:00.000Z"): LiveCandidate => ({ id, key, status, lastActivityAt });

test("an incoming live session clashes with a stored live session of its key, not with archived or expired ones", () => {
  const stored = [s("a", "dm:t:1", "active"), s("b", "dm:t:2", "archived"), s("c", "dm:t:3", "expired"), s("d", "dm:t:4", "created")];
  const incoming = [s("x", "dm:t:1", "active"), s("y", "dm:t:2", "active"), s("z", "dm:t:3", "created"), s("w", "dm:t:4", "archived")];
  assert.deepEqual(liveClashes(incoming, stored), [{ incoming: "x", key: "dm:t:1", live: "a", liveIsIncoming: false }]);
});

test("a stored session the import replaces under the same id is no clash", () => {
  assert.deepEqual(liveClashes([s("a", "dm:t:1", "active")], [s("a", "dm:t:1", "active")]), []);
});

test("of two incoming live sessions of one key the most recently active is the key's; the other clashes with it", () => {
  const incoming = [s("old", "dm:t:1", "active", "2025-01-01T09:00:00.000Z"), s("new", "dm:t:1", "active", "2025-01-01T11:00:00.000Z")];
  assert.deepEqual(liveClashes(incoming, []), [{ incoming: "old", key: "dm:t:1", live: "new", liveIsIncoming: true }]);
  assert.deepEqual(
    liveClashes(incoming, [s("st", "dm:t:1", "active")]).map((c) => [c.incoming, c.live]),
    [
      ["new", "st"],
      ["old", "new"],
    ],
  );
});

test("the refusal names both sessions, the key and both ways out; the two ways out exclude each other", () => {
  const err = clashError("copy", [
    { incoming: "x", key: "dm:t:1", live: "a", liveIsIncoming: false },
    { incoming: "y", key: "dm:t:2", live: "b", liveIsIncoming: false },
  ]);
  assert.equal(err.code, "ALREADY_EXISTS");
  assert.match(err.message, /^cannot copy x: session a is already live for dm:t:1 \(and 1 more key clash\);.*--as-archived.*--replace-live to archive a and copy x as live; nothing was written$/);
  assert.throws(() => clashPolicy({ asArchived: true, replaceLive: true }), { code: "INVALID_ARGUMENT" });
  assert.equal(clashPolicy({}), "refuse");
});
