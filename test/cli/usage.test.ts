import assert from "node:assert/strict";
import { test } from "node:test";
import type { UsageReport } from "../../src/manager/usage.js";
import type { Session } from "../../src/session/types.js";
import { sandbox } from "../helpers/cli-run.js";

test("usage: recorded with a reply, shown in list, show and status, and reported by channel, session and day", async (t) => {
  const sb = await sandbox(t);
  await sb.ok(["sessions", "append", "--dm", "telegram:1", "hello"]);
  await sb.ok(["sessions", "append", "--session", "dm:telegram:1", "--role", "assistant", "--usage", "1200:300", "hi there"]);
  await sb.ok(["sessions", "append", "--dm", "slack:U2", "question"]);
  await sb.ok(["sessions", "append", "--session", "dm:slack:U2", "--role", "assistant", "--usage", "100:20", "answer"]);
  await sb.ok(["sessions", "append", "--dm", "slack:U3", "no reply yet"]);

  const list = await sb.json<{ sessions: Array<{ key: string; usage: { total: number; input: number; output: number; turns: number } | null }> }>(["sessions", "list"]);
  const byKey = new Map(list.sessions.map((s) => [s.key, s.usage]));
  assert.deepEqual(byKey.get("dm:telegram:1"), { input: 1200, output: 300, total: 1500, turns: 1, estimatedTurns: 0 });
  assert.equal(byKey.get("dm:slack:U3"), null);
  const table = (await sb.ok(["sessions", "list"])).stdout.split("\n");
  assert.match(table[0] ?? "", /\bUSED\b/);
  assert.match(table.find((l) => l.includes("dm:telegram:1")) ?? "", /\s1,500\s/);
  assert.match(table.find((l) => l.includes("dm:slack:U3")) ?? "", /\s-\s/);

  const shown = await sb.ok(["sessions", "show", "dm:telegram:1"]);
  assert.match(shown.stdout, /tokens used\s+1,200 in · 300 out · 1,500 total over 1 model call; last context 1,200 tokens/);
  const doc = await sb.json<Session>(["sessions", "show", "dm:telegram:1"]);
  assert.equal(doc.context.usage?.total, 1500);
  assert.deepEqual(doc.messages.at(-1)?.usage, { input: 1200, output: 300, total: 1500 });

  const status = await sb.json<{ usage: { total: number; turns: number } }>(["status"]);
  assert.deepEqual([status.usage.total, status.usage.turns], [1620, 2]);
  assert.match((await sb.ok(["status"])).stdout, /tokens used\s+1,300 in · 320 out · 1,620 total over 2 model calls/);

  const channels = await sb.json<UsageReport>(["usage"]);
  assert.deepEqual(
    channels.rows.map((r) => [r.group, r.total]),
    [
      ["telegram", 1500],
      ["slack", 120],
    ],
  );
  const sessions = await sb.json<UsageReport>(["usage", "--by", "session", "--since", "7d"]);
  assert.equal(sessions.source, "messages");
  assert.deepEqual(
    sessions.rows.map((r) => [r.key, r.total]),
    [
      ["dm:telegram:1", 1500],
      ["dm:slack:U2", 120],
    ],
  );
  const days = await sb.json<UsageReport>(["usage", "--by", "day"]);
  assert.equal(days.rows.length, 1);
  assert.match(days.rows[0]?.group ?? "", /^\d{4}-\d{2}-\d{2}$/);
  const text = (await sb.ok(["usage", "--by", "channel"])).stdout;
  assert.match(text, /^CHANNEL\s+SESSIONS\s+CALLS\s+INPUT\s+OUTPUT\s+TOTAL\s+ESTIMATED/);
  assert.match(text, /total\s+2\s+2\s+1,300\s+320\s+1,620\s+0/);

  const bad = await sb.run(["usage", "--by", "week"]);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /^error: .*week/m);
  const wrong = await sb.run(["sessions", "append", "--session", "dm:telegram:1", "--usage", "10:1", "user text"]);
  assert.notEqual(wrong.code, 0);
  assert.match(wrong.stderr, /usage belongs to an assistant reply/);
  assert.match((await sb.run(["sessions", "append", "--session", "dm:telegram:1", "--role", "assistant", "--usage", "ten", "x"])).stderr, /expected INPUT:OUTPUT/);
});
