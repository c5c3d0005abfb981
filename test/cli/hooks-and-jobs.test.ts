import assert from "node:assert/strict";
import { test } from "node:test";
import { errorLine, sandbox } from "../helpers/cli-run.js";

interface AppendJson {
  id: string;
  key: string;
  messageCount: number;
}

test("append --hook keeps one session per hook; --job --run one per run", async (t) => {
  const sb = await sandbox(t);
  const a = await sb.json<AppendJson>(["sessions", "append", "--hook", "github", "push to main"]);
  const b = await sb.json<AppendJson>(["sessions", "append", "--hook", "github", "PR merged"]);
  assert.deepEqual([a.key, b.id, b.messageCount], ["hook:github", a.id, 2]);
  const r1 = await sb.json<AppendJson>(["sessions", "append", "--job", "nightly", "--run", "r1", "go"]);
  const r1b = await sb.json<AppendJson>(["sessions", "append", "--job", "nightly", "--run", "r1", "more"]);
  const r2 = await sb.json<AppendJson>(["sessions", "append", "--job", "nightly", "--run", "r2", "go"]);
  assert.deepEqual([r1.key, r1b.id, r2.key], ["job:nightly:r1", r1.id, "job:nightly:r2"]);
  assert.notEqual(r2.id, r1.id);
  const fresh = await sb.json<AppendJson>(["sessions", "append", "--job", "nightly", "go"]);
  assert.match(fresh.key, /^job:nightly:[0-9a-f-]{36}$/);
  const shown = await sb.json<{ id: string; kind: string; channel: string }>(["sessions", "show", "hook:github"]);
  assert.deepEqual([shown.id, shown.kind, shown.channel], [a.id, "isolated", "hook"]);
  const listed = await sb.ok(["sessions", "list"]);
  assert.match(listed.stdout, /hook:github/);
  assert.match(listed.stdout, /job:nightly:r2/);

  const runAlone = await sb.run(["sessions", "append", "--hook", "github", "--run", "r1", "x"]);
  assert.equal(errorLine(runAlone), "error: --run only applies with --job");
  const both = await sb.run(["sessions", "append", "--hook", "github", "--job", "nightly", "x"]);
  assert.match(errorLine(both), /^error: --hook and --job given together: use exactly one of/);
  const bad = await sb.run(["sessions", "append", "--hook", "no spaces", "x"]);
  assert.match(errorLine(bad), /^error: invalid hook name "no spaces"/);
});
