import assert from "node:assert/strict";
import { test } from "node:test";
import { isOpenclawError } from "../../src/errors.js";
import { errorLine, sandbox } from "../helpers/cli-run.js";
import { openTestManager } from "../helpers/manager-open.js";

interface Listed {
  total: number;
  sessions: Array<{ id: string; key: string; messageCount: number }>;
}

const REAL: Array<[string, string[], string]> = [
  ["Matrix user", ["--dm", "matrix:@alice:matrix.org"], "dm:matrix:@alice%3Amatrix.org"],
  ["Matrix room", ["--group", "matrix:!room:matrix.org", "--from", "@bob:matrix.org"], "group:matrix:!room%3Amatrix.org"],
  ["Teams user", ["--dm", "ms-teams:29:1abc"], "dm:ms-teams:29%3A1abc"],
  ["web user", ["--dm", "web:user/1"], "dm:web:user/1"],
];

test("the library records Matrix, Teams and web ids and finds the session again by its key", async (t) => {
  const h = await openTestManager();
  t.after(() => h.cleanup());
  const a = await h.manager.record({ inbound: { channel: "matrix", senderId: "@alice:matrix.org" } }, { role: "user", content: "hi" });
  const b = await h.manager.record({ inbound: { channel: "matrix", senderId: "@alice:matrix.org" } }, { role: "user", content: "again" });
  assert.equal(a.session.id, b.session.id);
  assert.equal(a.session.key, "dm:matrix:@alice%3Amatrix.org");
  const g = await h.manager.record({ inbound: { channel: "ms-teams", senderId: "29:1abc", groupId: "19:meeting_x@thread.v2" } }, { role: "user", content: "team" });
  assert.equal(g.session.key, "group:ms-teams:19%3Ameeting_x@thread.v2");
  await assert.rejects(h.manager.record({ inbound: { channel: "web", senderId: "../../x" } }, { role: "user", content: "x" }), (e: unknown) => isOpenclawError(e, "INVALID_KEY"));
});

test("the CLI accepts the ids real channels use, by flag and by key", async (t) => {
  const sb = await sandbox(t);
  for (const [, flags] of REAL) await sb.ok(["sessions", "append", ...flags, "hello"]);
  const all = await sb.json<Listed>(["sessions", "list"]);
  assert.deepEqual(all.sessions.map((s) => s.key).sort(), REAL.map(([, , key]) => key).sort());
  for (const [what, , key] of REAL) {
    const shown = await sb.ok(["sessions", "show", key]);
    assert.match(shown.stdout, /hello/, what);
  }
});

test("the CLI refuses a path-like or hostile id with one line naming the allowed characters", async (t) => {
  const sb = await sandbox(t);
  for (const id of ["web:../../x", "web:a b", "web:a%3Ab"]) {
    const r = await sb.run(["sessions", "append", "--dm", id, "x"]);
    assert.equal(r.code, 1, id);
    assert.match(errorLine(r), /A-Z a-z 0-9 _ \. @ \+ = - : ! \/ # ~/);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
  }
  assert.equal((await sb.json<Listed>(["sessions", "list"])).total, 0);
});
