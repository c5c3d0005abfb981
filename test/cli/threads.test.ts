import assert from "node:assert/strict";
import { test } from "node:test";
import { sandbox } from "../helpers/cli-run.js";

test("append --thread makes a session under its parent that carries the parent's settings; list shows it under the parent", async (t) => {
  const sb = await sandbox(t);
  const parent = await sb.json<{ id: string }>(["sessions", "append", "--group", "slack:C1", "--from", "U1", "standup at 10"]);
  await sb.ok(["sessions", "set", parent.id, "--pref", "language=fr", "--deny-tool", "shell", "--system", "Be brief."]);
  await sb.ok(["sessions", "append", "--dm", "telegram:42", "unrelated, newer"]);
  const thread = await sb.json<{ id: string; key: string; started?: { parentId?: string } }>(["sessions", "append", "--group", "slack:C1", "--from", "U2", "--thread", "T9", "a side question"]);
  assert.equal(thread.key, "group:slack:C1:thread:T9");
  assert.equal(thread.started?.parentId, parent.id);
  const shown = await sb.json<{ preferences: Record<string, unknown>; tools: { deny: string[] }; systemPrompts: Array<{ content: string }> }>(["sessions", "show", thread.id]);
  assert.deepEqual([shown.preferences, shown.tools.deny, shown.systemPrompts.map((p) => p.content)], [{ language: "fr" }, ["shell"], ["Be brief."]]);

  const lines = (await sb.ok(["sessions", "list"])).stdout.split("\n");
  const at = lines.findIndex((l) => /\sgroup:slack:C1\s/.test(l));
  assert.ok(at > 0, lines.join("\n"));
  assert.match(lines[at + 1] ?? "", /^\S+\s+└ thread:T9\s+group/, "the thread is the row right under its parent");
  const listed = await sb.json<{ sessions: Array<{ key: string; parentKey: string | null }> }>(["sessions", "list"]);
  assert.deepEqual(listed.sessions.map((s) => [s.key, s.parentKey]).sort(), [
    ["dm:telegram:42", null],
    ["group:slack:C1", null],
    ["group:slack:C1:thread:T9", "group:slack:C1"],
  ]);
});
