import assert from "node:assert/strict";
import { test } from "node:test";
import { errorLine, sandbox } from "../helpers/cli-run.js";

test("origin from append, a label from set: list and show display them, search matches them", async (t) => {
  const sb = await sandbox(t);
  const g = await sb.json<{ id: string }>(["sessions", "append", "--group", "slack:C1", "--from", "U1", "--display-name", "Ada Lovelace", "--subject", "Launch prep", "standup at 10"]);
  await sb.ok(["sessions", "append", "--dm", "telegram:42", "--account", "support-bot", "--display-name", "Grace", "hello"]);
  const set = await sb.json<{ label: string | null }>(["sessions", "set", g.id, "--label", "War room"]);
  assert.equal(set.label, "War room");

  const list = (await sb.ok(["sessions", "list"])).stdout;
  assert.match(list, /group:slack:C1 .*War room \(Launch prep · slack\)\n/);
  assert.match(list, /dm:telegram:42 .*Grace · telegram\/support-bot\n/);
  const json = await sb.json<{ sessions: Array<{ key: string; label: string | null; origin: Record<string, string> | null }> }>(["sessions", "list"]);
  const dm = json.sessions.find((s) => s.key === "dm:telegram:42");
  assert.deepEqual([dm?.label, dm?.origin], [null, { channel: "telegram", account: "support-bot", displayName: "Grace" }]);

  const shown = (await sb.ok(["sessions", "show", g.id])).stdout;
  assert.match(shown, /label\s+War room/);
  assert.match(shown, /origin\s+Launch prep · slack/);

  const byLabel = await sb.json<{ sessions: Array<{ sessionId: string; field: string; value: string }>; count: number }>(["sessions", "search", "war ROOM"]);
  assert.deepEqual(
    byLabel.sessions.map((s) => [s.sessionId, s.field, s.value]),
    [[g.id, "label", "War room"]],
  );
  assert.equal(byLabel.count, 0, "no message says it");
  const bySubject = await sb.ok(["sessions", "search", "launch"]);
  assert.match(bySubject.stdout, /group:slack:C1\s+subject\s+Launch prep/);
  const byName = await sb.json<{ sessions: Array<{ field: string }> }>(["sessions", "search", "grace"]);
  assert.deepEqual(
    byName.sessions.map((s) => s.field),
    ["displayName"],
  );

  await sb.ok(["sessions", "set", g.id, "--label", ""]);
  assert.doesNotMatch((await sb.ok(["sessions", "list"])).stdout, /War room/);
  assert.match(errorLine(await sb.run(["sessions", "set", g.id, "--label", "x".repeat(300)])), /invalid label/);
  assert.match(errorLine(await sb.run(["sessions", "append", "--isolated", "x", "--subject", "s", "hi"])), /--subject only applies with --dm or --group/);
});
