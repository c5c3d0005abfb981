import assert from "node:assert/strict";
import { test } from "node:test";
import { errorLine, sandbox } from "../helpers/cli-run.js";

interface Listed {
  sessions: Array<{ id: string; ref: string; key: string }>;
}

test("list shows a short ref from the id's random tail, and every command accepts it", async (t) => {
  const sb = await sandbox(t);
  // Sessions made in the same second share their leading (time) digits, never their short refs.
  for (let i = 0; i < 5; i++) await sb.ok(["sessions", "append", "--dm", `telegram:${i}`, `hello ${i}`]);
  const { sessions } = await sb.json<Listed>(["sessions", "list"]);
  assert.equal(new Set(sessions.map((s) => s.ref)).size, 5);
  for (const s of sessions) {
    assert.match(s.ref, /^[0-9a-f]{12}$/);
    assert.ok(s.id.endsWith(s.ref));
  }
  const human = await sb.ok(["sessions", "list"]);
  for (const s of sessions) assert.match(human.stdout, new RegExp(`^${s.ref}\\s+${s.key}\\s`, "m"));

  const target = sessions[2];
  assert.ok(target);
  assert.equal((await sb.json<{ id: string }>(["sessions", "show", target.ref])).id, target.id);
  assert.equal((await sb.json<{ id: string }>(["sessions", "show", target.ref.toUpperCase()])).id, target.id);
  await sb.ok(["sessions", "append", "--session", target.ref, "by short ref"]);
  await sb.ok(["sessions", "set", target.ref, "--pref", "a=1"]);
  await sb.ok(["sessions", "archive", target.ref]);
  const shown = await sb.json<{ status: string; messages: unknown[] }>(["sessions", "show", target.ref]);
  assert.deepEqual([shown.status, shown.messages.length], ["archived", 2]);
  const missing = await sb.run(["sessions", "show", "000000000000"]);
  assert.equal(missing.code, 1);
  assert.match(errorLine(missing), /no session matches "000000000000"/);
});

test("isolated:<name> names the one isolated session of that task; two are ambiguous", async (t) => {
  const sb = await sandbox(t);
  await sb.ok(["sessions", "append", "--isolated", "research", "find papers"]);
  await sb.ok(["sessions", "append", "--isolated", "billing", "invoice 7"]);
  const one = await sb.json<{ key: string; messages: Array<{ content: string }> }>(["sessions", "show", "isolated:research"]);
  assert.match(one.key, /^isolated:research:/);
  assert.equal(one.messages[0]?.content, "find papers");
  await sb.ok(["sessions", "append", "--session", "isolated:research", "more"]);
  await sb.ok(["sessions", "append", "--isolated", "research", "a second research session"]);
  const two = await sb.run(["sessions", "show", "isolated:research"]);
  assert.equal(two.code, 1);
  assert.match(errorLine(two), /"isolated:research" is ambiguous: 2 isolated sessions have that name; use one's id or short ref: /);
  const none = await sb.run(["sessions", "show", "isolated:nothing"]);
  assert.match(errorLine(none), /no session matches "isolated:nothing"/);
});
