import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { sandbox } from "../helpers/cli-run.js";

interface AppendJson {
  id: string;
  key: string;
  messageCount: number;
  started?: { reason: string; previousId: string | null };
  command?: { name: string; reply: string; previousId?: string | null; model?: string };
}

test("append runs in-chat commands: /status answers on stderr, /new starts a fresh session, --no-commands records the text", async (t) => {
  const sb = await sandbox(t);
  await mkdir(sb.stateDir, { recursive: true });
  await writeFile(join(sb.stateDir, "config.json"), JSON.stringify({ sessions: { commands: { groupSenders: ["alice"] } } }));
  const first = await sb.json<AppendJson>(["sessions", "append", "--dm", "telegram:42", "hello"]);
  const status = await sb.run(["sessions", "append", "--dm", "telegram:42", "/status"]);
  assert.equal(status.code, 0, status.stderr);
  assert.equal(status.stdout.trim(), first.id);
  assert.match(status.stderr, new RegExp(`^Session ${first.id} \\(dm:telegram:42\\)\\nModel: gpt-4o\\nContext: `));

  const fresh = await sb.json<AppendJson>(["sessions", "append", "--dm", "telegram:42", "/new claude-sonnet-4"]);
  assert.equal(fresh.command?.name, "new");
  assert.deepEqual([fresh.command?.previousId, fresh.command?.model, fresh.started?.reason, fresh.messageCount], [first.id, "claude-sonnet-4", "reset by command", 0]);
  assert.notEqual(fresh.id, first.id);
  const shown = await sb.json<{ id: string; preferences: Record<string, unknown> }>(["sessions", "show", "dm:telegram:42"]);
  assert.deepEqual([shown.id, shown.preferences.model], [fresh.id, "claude-sonnet-4"]);

  const literal = await sb.json<AppendJson>(["sessions", "append", "--dm", "telegram:42", "--no-commands", "/reset"]);
  assert.deepEqual([literal.id, literal.messageCount, literal.command], [fresh.id, 1, undefined]);

  // In a group only the allowed senders' commands run; anyone else's is a message.
  const carol = await sb.json<AppendJson>(["sessions", "append", "--group", "slack:C1", "--from", "carol", "/reset"]);
  assert.deepEqual([carol.command, carol.messageCount], [undefined, 1]);
  const alice = await sb.json<AppendJson>(["sessions", "append", "--group", "slack:C1", "--from", "alice", "/reset"]);
  assert.deepEqual([alice.command?.name, alice.command?.previousId], ["reset", carol.id]);
});
