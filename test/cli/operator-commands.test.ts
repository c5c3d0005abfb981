import assert from "node:assert/strict";
import { test } from "node:test";
import { summaryInstruction } from "../../src/context/openai.js";
import type { Session } from "../../src/session/types.js";
import { errorLine, sandbox, snapshot, type Sandbox } from "../helpers/cli-run.js";

interface ContextJson {
  id: string;
  key: string;
  window: number;
  reserve: number;
  budget: number;
  tokens: number;
  parts: { system: number; summary: number; pinned: number; recent: number };
  summary: string;
  droppedTurns: number;
  messages: Array<{ index: number; part: string; role: string; tokens: number | null; messageId: string | null; message: { role: string; content: string; tool_calls?: unknown[]; tool_call_id?: string } }>;
}

async function conversation(sb: Sandbox, turns: number): Promise<string> {
  let id = "";
  for (let i = 0; i < turns; i++) {
    id = (await sb.ok(["sessions", "append", "--dm", "telegram:42", `question ${i} about invoice INV-${i}`])).stdout.trim();
    await sb.ok(["sessions", "append", "--dm", "telegram:42", "--role", "assistant", `answer ${i}`]);
  }
  return id;
}

test("sessions context --json: every message sent, in order, with part and tokens, against window, reserve and budget", async (t) => {
  const sb = await sandbox(t);
  const id = await conversation(sb, 2);
  await sb.ok(["sessions", "set", id, "--system", "You are terse."]);
  const doc = await sb.json<ContextJson>(["sessions", "context", "dm:telegram:42"]);
  const stored = await sb.json<Session>(["sessions", "show", id]);
  assert.equal(doc.id, id);
  assert.equal(doc.budget, doc.window - doc.reserve);
  assert.deepEqual(
    doc.messages.map((m) => [m.part, m.role, m.message.content]),
    [
      ["system", "system", "You are terse."],
      ["recent", "user", "question 0 about invoice INV-0"],
      ["recent", "assistant", "answer 0"],
      ["recent", "user", "question 1 about invoice INV-1"],
      ["recent", "assistant", "answer 1"],
    ],
  );
  assert.deepEqual(
    doc.messages.slice(1).map((m) => [m.messageId, m.tokens]),
    stored.messages.map((m) => [m.id, m.tokens]),
  );
  assert.equal(doc.tokens, doc.parts.system + doc.parts.summary + doc.parts.pinned + doc.parts.recent);
  assert.equal(doc.summary, "none");
  assert.equal(doc.droppedTurns, 0);
});

test("sessions context: an aligned listing with stored text made visible", async (t) => {
  const sb = await sandbox(t);
  await sb.ok(["sessions", "append", "--dm", "telegram:42", "hi \x1b[2J\x07 there"]);
  const r = await sb.ok(["sessions", "context", "dm:telegram:42"]);
  assert.doesNotMatch(r.stdout, /\x1b|\x07/, "no raw control characters reach the terminal");
  assert.match(r.stdout, /hi \\x1b\[2J\\x07 there/);
  assert.match(r.stdout, /budget 123,904/);
  assert.match(r.stdout, /summary\s+none/);
  assert.match(r.stdout, /#\s+PART\s+ROLE\s+TOKENS/);
  const missing = await sb.run(["sessions", "context", "nosuchsession"]);
  assert.equal(missing.code, 1);
  errorLine(missing);
});

test("sessions compact <ref> --now folds under the limits; the summary then shows in context", async (t) => {
  const sb = await sandbox(t);
  const id = await conversation(sb, 3);
  const folded = await sb.json<{ id: string; folded: number; summarizer: string | null; error: string | null; messageCount: number }>(["sessions", "compact", id, "--now", "--focus", "invoices"]);
  assert.equal(folded.id, id);
  assert.ok(folded.folded > 0, "something was folded although no limit was reached");
  assert.equal(folded.summarizer, "extractive");
  assert.equal(folded.error, null);
  assert.equal(folded.messageCount, 6 - folded.folded);
  const doc = await sb.json<ContextJson>(["sessions", "context", id]);
  assert.equal(doc.summary, "full");
  assert.equal(doc.messages[0]?.part, "summary");
  assert.ok(doc.parts.summary > 0);
  const human = await sb.ok(["sessions", "context", id]);
  assert.match(human.stdout, /summary\s+sent whole/);

  const again = await sb.ok(["sessions", "compact", id, "--now"]);
  assert.match(again.stdout, /folded|nothing folded/);
});

test("sessions compact <ref> --now --keep N folds whole turns until N recent messages are left", async (t) => {
  const sb = await sandbox(t);
  const id = await conversation(sb, 6);
  const kept = await sb.json<{ folded: number; messageCount: number }>(["sessions", "compact", id, "--now", "--keep", "4"]);
  assert.deepEqual([kept.folded, kept.messageCount], [8, 4]);
  const doc = await sb.json<{ messages: Array<{ content: string }>; summary: { text: string } }>(["sessions", "show", id]);
  assert.deepEqual(
    doc.messages.map((m) => m.content),
    ["question 4 about invoice INV-4", "answer 4", "question 5 about invoice INV-5", "answer 5"],
  );
  for (const n of [0, 1, 2, 3]) assert.ok(doc.summary.text.includes(`INV-${n}`), doc.summary.text);
  // An odd count keeps the whole turn it would cut; --keep 0 still leaves the latest turn.
  const odd = await sb.json<{ folded: number; messageCount: number }>(["sessions", "compact", id, "--now", "--keep", "3"]);
  assert.deepEqual([odd.folded, odd.messageCount], [0, 4]);
  const none = await sb.json<{ folded: number; messageCount: number }>(["sessions", "compact", id, "--now", "--keep", "0"]);
  assert.deepEqual([none.folded, none.messageCount], [2, 2]);
  for (const bad of [
    ["--keep", "-1", "--now"],
    ["--keep", "two", "--now"],
    ["--keep", "2"],
  ]) {
    const r = await sb.run(["sessions", "compact", id, ...bad]);
    assert.equal(r.code, 2, bad.join(" "));
  }
});

test("sessions compact --now: usage errors exit 2 and change nothing; plain compact is unchanged", async (t) => {
  const sb = await sandbox(t);
  const id = await conversation(sb, 2);
  const before = await snapshot(sb.stateDir);
  for (const args of [["--now"], ["--focus", "x"], [id, "--focus", "x"], [id, id, "--now"], [id, "--now", "--dry-run"]]) {
    const r = await sb.run(["sessions", "compact", ...args]);
    assert.equal(r.code, 2, args.join(" "));
    errorLine(r);
  }
  assert.deepEqual(await snapshot(sb.stateDir), before);
  const report = await sb.json<{ sessions: number; actions: unknown[] }>(["sessions", "compact"]);
  assert.equal(report.sessions, 1);
  assert.deepEqual(report.actions, [], "under the limits plain compact folds nothing");
});

test("the openai-compatible summarizer's instruction carries --focus", () => {
  assert.match(summaryInstruction(300, "the invoice numbers"), /focus on: the invoice numbers/);
  assert.doesNotMatch(summaryInstruction(300), /focus/);
});

test("append --tool-call, --role tool --call-id record a linked tool exchange", async (t) => {
  const sb = await sandbox(t);
  await sb.ok(["sessions", "append", "--dm", "telegram:42", "weather?"]);
  await sb.ok(["sessions", "append", "Checking", "--role", "assistant", "--tool-call", "weather", '{"city":"Oslo"}', "--tool-call", "time", "{}", "--dm", "telegram:42"]);
  let s = await sb.json<Session>(["sessions", "show", "dm:telegram:42"]);
  const calls = s.messages[1]?.toolCalls ?? [];
  assert.deepEqual(
    calls.map((c) => [c.name, c.arguments]),
    [
      ["weather", '{"city":"Oslo"}'],
      ["time", "{}"],
    ],
  );
  for (const c of calls) assert.match(c.id, /^call_[0-9a-zA-Z]+$/);
  assert.notEqual(calls[0]?.id, calls[1]?.id);
  for (const c of calls) await sb.ok(["sessions", "append", "--dm", "telegram:42", "--role", "tool", "--call-id", c.id, `result of ${c.name}`]);
  s = await sb.json<Session>(["sessions", "show", "dm:telegram:42"]);
  assert.deepEqual(
    s.messages.slice(2).map((m) => [m.role, m.toolCallId, m.sender]),
    calls.map((c) => ["tool", c.id, null]),
  );
  const ctx = await sb.json<ContextJson>(["sessions", "context", "dm:telegram:42"]);
  assert.deepEqual(
    ctx.messages.map((m) => m.role),
    ["user", "assistant", "tool", "tool"],
  );
  assert.equal(ctx.messages[1]?.message.tool_calls?.length, 2, "answered calls reach the model");
  assert.equal(ctx.messages[2]?.message.tool_call_id, calls[0]?.id);
});

test("append tool usage errors exit 2 and record nothing", async (t) => {
  const sb = await sandbox(t);
  await sb.ok(["sessions", "append", "--dm", "telegram:42", "hi"]);
  const before = await snapshot(sb.stateDir);
  const cases = [
    ["--role", "tool", "result"],
    ["--call-id", "call_1", "result"],
    ["x", "--role", "assistant", "--tool-call", "f", "{not json"],
    ["--tool-call", "f", "{}", "--role", "user", "x"],
    ["--thread", "t1", "--isolated", "task", "x"],
  ];
  for (const args of cases) {
    const full = args.includes("--dm") || args.includes("--isolated") ? args : [...args, "--dm", "telegram:42"];
    const r = await sb.run(["sessions", "append", ...full]);
    assert.equal(r.code, 2, full.join(" "));
    errorLine(r);
  }
  const bad = await sb.run(["sessions", "append", "x", "--role", "assistant", "--tool-call", "f", "{not json", "--dm", "telegram:42"]);
  assert.equal(bad.code, 2);
  assert.match(errorLine(bad), /not valid JSON/);
  assert.deepEqual(await snapshot(sb.stateDir), before);
});

test("append --thread routes dm and group messages to the thread key", async (t) => {
  const sb = await sandbox(t);
  const dm = await sb.json<{ key: string }>(["sessions", "append", "--dm", "telegram:42", "--thread", "77", "in a thread"]);
  assert.equal(dm.key, "dm:telegram:42:thread:77");
  const group = await sb.json<{ key: string }>(["sessions", "append", "--group", "slack:C1", "--from", "alice", "--thread", "T9", "hi"]);
  assert.equal(group.key, "group:slack:C1:thread:T9");
  const parent = await sb.json<{ key: string; id: string }>(["sessions", "append", "--dm", "telegram:42", "outside"]);
  assert.equal(parent.key, "dm:telegram:42");
});
