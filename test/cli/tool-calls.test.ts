import assert from "node:assert/strict";
import { test } from "node:test";
import { sandbox } from "../helpers/cli-run.js";

test("show reports tool calls that have no result, and stops once the result is recorded", async (t) => {
  const sb = await sandbox(t);
  await sb.ok(["sessions", "append", "--dm", "telegram:1", "where is order 1001?"]);
  await sb.ok(["sessions", "append", "--session", "dm:telegram:1", "--role", "assistant", "checking", "--tool-call", "lookup_order", '{"id":"1001"}', "--tool-call", "notify", "{}"]);
  const shown = await sb.json<{ messages: Array<{ toolCalls?: Array<{ id: string; name: string }> }> }>(["sessions", "show", "dm:telegram:1"]);
  const calls = shown.messages[1]?.toolCalls ?? [];
  assert.equal(calls.length, 2);
  const before = await sb.ok(["sessions", "show", "dm:telegram:1"]);
  assert.match(before.stdout, new RegExp(`tool calls\\s+2 calls without a result: ${calls[0]?.id} \\(lookup_order\\), ${calls[1]?.id} \\(notify\\); the model is sent a call only with its result`));
  await sb.ok(["sessions", "append", "--session", "dm:telegram:1", "--role", "tool", "--call-id", calls[0]?.id as string, '{"status":"shipped"}']);
  const one = await sb.ok(["sessions", "show", "dm:telegram:1"]);
  assert.match(one.stdout, /tool calls\s+1 call without a result: \S+ \(notify\)/);
  await sb.ok(["sessions", "append", "--session", "dm:telegram:1", "--role", "tool", "--call-id", calls[1]?.id as string, "sent"]);
  assert.doesNotMatch((await sb.ok(["sessions", "show", "dm:telegram:1"])).stdout, /without a result/);

  // --json gives the new call's id, the one its result must name.
  const made = await sb.json<{ toolCalls: Array<{ id: string; name: string }> }>(["sessions", "append", "--session", "dm:telegram:1", "--role", "assistant", "again", "--tool-call", "lookup_order", "{}"]);
  assert.equal(made.toolCalls[0]?.name, "lookup_order");
  await sb.ok(["sessions", "append", "--session", "dm:telegram:1", "--role", "tool", "--call-id", made.toolCalls[0]?.id as string, "ok"]);
  assert.doesNotMatch((await sb.ok(["sessions", "show", "dm:telegram:1"])).stdout, /without a result/);
});
