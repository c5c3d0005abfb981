import assert from "node:assert/strict";
import { test } from "node:test";
import { errorLine, sandbox, snapshot } from "../helpers/cli-run.js";
import { seed } from "../helpers/cli-fixtures.js";

interface Shown {
  id: string;
  key: string;
  kind: string;
  status: string;
  preferences: Record<string, unknown>;
  tools: { allow: string[]; deny: string[] };
  systemPrompts: Array<{ content: string }>;
  summary: { text: string } | null;
  messages: Array<{ id: string; content: string; pinned: boolean }>;
}

interface Exported {
  sessions: Array<{ id: string; messages: Array<{ id: string }>; prunedHistory: Array<{ id: string }> }>;
}

test("fork copies history up to a message with summary, pruned history, pins and settings; the original is untouched", async (t) => {
  const sb = await sandbox(t);
  const env = await seed(sb, [{ key: "dm:telegram:1", messages: 6, pruned: 3, summary: "earlier: order #1001", preferences: { units: "metric" }, tools: { allow: ["*"], deny: ["shell.*"] }, systemPrompt: "Be brief." }]);
  const source = env.sessions[0];
  assert.ok(source);
  const at = source.messages[3]?.id as string;
  const before = await snapshot(`${sb.stateDir}/sessions`);
  const originalJson = (await sb.ok(["sessions", "export", "dm:telegram:1"])).stdout;

  const r = await sb.json<{ id: string; key: string; from: string; messages: number; pruned: number; summary: boolean }>(["sessions", "fork", "dm:telegram:1", "--at", at]);
  assert.deepEqual([r.from, r.messages, r.pruned, r.summary], [source.id, 4, 3, true]);
  assert.match(r.key, /^isolated:fork:/);
  const fork = await sb.json<Shown>(["sessions", "show", r.id, "--messages", "100"]);
  assert.deepEqual(
    fork.messages.map((m) => m.id),
    source.messages.slice(0, 4).map((m) => m.id),
  );
  assert.deepEqual(fork.preferences, { units: "metric" });
  assert.deepEqual(fork.tools.deny, ["shell.*"]);
  assert.deepEqual(
    fork.systemPrompts.map((p) => p.content),
    ["Be brief."],
  );
  assert.equal(fork.summary?.text, "earlier: order #1001");
  assert.equal(fork.kind, "isolated");
  const exported = JSON.parse((await sb.ok(["sessions", "export", r.id])).stdout) as Exported;
  assert.deepEqual(
    exported.sessions[0]?.prunedHistory.map((m) => m.id),
    source.prunedHistory.map((m) => m.id),
  );

  // The original: same export, its file untouched.
  assert.equal((await sb.ok(["sessions", "export", "dm:telegram:1"])).stdout.replace(/"exportedAt": "[^"]+"/, ""), originalJson.replace(/"exportedAt": "[^"]+"/, ""));
  const after = await snapshot(`${sb.stateDir}/sessions`);
  const sourceFile = (lines: string[]) => lines.filter((l) => l.includes(source.id));
  assert.deepEqual(sourceFile(after), sourceFile(before));

  // Appending to the fork leaves the original alone.
  await sb.ok(["sessions", "append", "--session", r.id, "a new branch"]);
  assert.equal((await sb.json<Shown>(["sessions", "show", "dm:telegram:1", "--messages", "100"])).messages.length, 6);
});

test("fork under a dm key takes the key only when no live session holds it", async (t) => {
  const sb = await sandbox(t);
  await sb.ok(["sessions", "append", "--dm", "telegram:1", "hello"]);
  await sb.ok(["sessions", "append", "--dm", "telegram:2", "taken"]);
  const taken = await sb.run(["sessions", "fork", "dm:telegram:1", "--key", "dm:telegram:2"]);
  assert.equal(taken.code, 1);
  assert.match(errorLine(taken), /key dm:telegram:2 already has a live session \(.+\); archive it first or fork under another --key/);
  const human = await sb.ok(["sessions", "fork", "dm:telegram:1", "--key", "dm:Telegram:3"]);
  assert.match(human.stdout, /^forked \S+ dm:telegram:3 from \S+: 1 message, preferences, tools and system prompts$/m);
  // The next message for that user goes to the fork.
  await sb.ok(["sessions", "append", "--dm", "telegram:3", "continuing"]);
  assert.equal((await sb.json<Shown>(["sessions", "show", "dm:telegram:3"])).messages.length, 2);
  const named = await sb.json<{ key: string }>(["sessions", "fork", "dm:telegram:1", "--key", "isolated:experiment"]);
  assert.match(named.key, /^isolated:experiment:/);
});

test("fork refuses an unknown or folded message and a hostile key, creating nothing", async (t) => {
  const sb = await sandbox(t);
  const env = await seed(sb, [{ key: "dm:telegram:1", messages: 2, pruned: 2, summary: "s" }]);
  const folded = env.sessions[0]?.prunedHistory[0]?.id as string;
  const cases: Array<[string[], RegExp]> = [
    [["--at", folded], /was folded into the summary of .*; fork at a message of the active history/],
    [["--at", "01a2267e-7f88-748b-af4c-4f114dc5e6ef"], /holds no message/],
    [["--key", "dm:../../x:1"], /invalid routing key/],
    [["--key", "isolated:a:b"], /give an isolated fork as isolated:<name>/],
  ];
  for (const [args, expected] of cases) {
    const r = await sb.run(["sessions", "fork", "dm:telegram:1", ...args]);
    assert.equal(r.code, 1, args.join(" "));
    assert.match(errorLine(r), expected);
  }
  assert.equal((await sb.json<{ total: number }>(["sessions", "list", "--status", "all"])).total, 1);
});
