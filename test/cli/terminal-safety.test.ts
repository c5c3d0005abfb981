import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import type { Session } from "../../src/session/types.js";
import { fixtureExport } from "../helpers/cli-fixtures.js";
import { sandbox, type CliResult } from "../helpers/cli-run.js";

// What a chat user could smuggle into stored text to rewrite an operator's terminal.
const TITLE = "\u001b]0;pwned\u0007"; // OSC: retitles the window
const CLEAR = "\u001b[2J"; // CSI: clears the screen
const CR = "a\rb"; // overwrites the start of the line
const BS = "x\u0008y"; // backspace
const C1 = "\u009b31m"; // 8-bit CSI
const PAYLOAD = `hi ${TITLE} ${CLEAR} ${CR} ${BS} ${C1}`;
// Raw controls, as a careless tool-calling model might emit them.
const ARGS = `{"q":"${PAYLOAD}"}`;
const ESCAPED = ["\\x1b]0;pwned\\x07", "\\x1b[2J", "a\\rb", "x\\x08y", "\\x9b31m"];

// Any C0 control but the newline, DEL or a C1 control.
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

function assertSafe(r: CliResult, what: string): void {
  assert.equal(r.code, 0, `${what}: ${r.stderr}`);
  for (const [stream, text] of [
    ["stdout", r.stdout],
    ["stderr", r.stderr],
  ] as const) {
    const m = RAW_CONTROL.exec(text);
    assert.equal(m, null, `${what} ${stream} holds a raw control byte ${JSON.stringify(m?.[0])}: ${JSON.stringify(text)}`);
  }
}

function assertEscaped(text: string, what: string): void {
  for (const e of ESCAPED) assert.ok(text.includes(e), `${what} shows ${e}: ${JSON.stringify(text)}`);
}

test("human-readable output makes stored control characters visible; --json keeps them exact", async (t) => {
  const sb = await sandbox(t);
  // Through the CLI: a group message (multi-line), a preference and a system prompt.
  const appended = await sb.run(["sessions", "append", "--group", "slack:C1", "--from", "alice", `${PAYLOAD}\nline two ${CLEAR}`]);
  assertSafe(appended, "append");
  const set = await sb.run(["sessions", "set", "group:slack:C1", "--pref", `tone=${PAYLOAD}`, "--system", `be brief ${PAYLOAD}`]);
  assertSafe(set, "set");
  assert.ok(set.stdout.includes("\\x9b31m"), `set shows the C1 control escaped: ${JSON.stringify(set.stdout)}`);

  // Through import: a summary and a tool call, which no CLI flag writes.
  const envelope = fixtureExport([{ key: "group:slack:C2", summary: `earlier ${PAYLOAD}`, pruned: 1 }]);
  const imported = envelope.sessions[0];
  assert.ok(imported !== undefined);
  const last = imported.messages.at(-1);
  assert.ok(last !== undefined);
  imported.messages[imported.messages.length - 1] = { ...last, role: "assistant", toolCalls: [{ id: "call_1", name: "web_search", arguments: ARGS }] };
  const file = join(sb.home, "evil.json");
  await writeFile(file, JSON.stringify(envelope));
  assertSafe(await sb.run(["sessions", "import", file]), "import");

  const show = await sb.run(["sessions", "show", "group:slack:C1"]);
  assertSafe(show, "show");
  assertEscaped(show.stdout, "show");
  assert.ok(show.stdout.includes(`\n    line two \\x1b[2J\n`), "message bodies keep their newlines");
  assert.ok(show.stdout.includes("be brief hi \\x1b]0;pwned\\x07"), "the system prompt is escaped");
  assert.ok(show.stdout.includes('\\x9b31m"'), "the preference value is escaped");

  const show2 = await sb.run(["sessions", "show", "group:slack:C2", "--all"]);
  assertSafe(show2, "show of the imported session");
  assertEscaped(show2.stdout, "show of the imported session");
  assert.ok(show2.stdout.includes("earlier hi \\x1b]0;pwned\\x07"), "the summary is escaped");
  assert.ok(show2.stdout.includes('→ calls web_search (call_1) {"q":"hi \\x1b]0;pwned'), "tool arguments are escaped");

  for (const args of [
    ["sessions", "list"],
    ["sessions", "list", "--status", "all"],
    ["status", "--verbose"],
  ])
    assertSafe(await sb.run(args), args.join(" "));

  const doc = await sb.json<Session>(["sessions", "show", "group:slack:C1"]);
  assert.equal(doc.messages[0]?.content, `${PAYLOAD}\nline two ${CLEAR}`, "--json keeps the message exactly");
  assert.equal(doc.preferences.tone, PAYLOAD, "--json keeps the preference exactly");
  assert.equal(doc.systemPrompts[0]?.content, `be brief ${PAYLOAD}`, "--json keeps the system prompt exactly");
  const doc2 = await sb.json<Session>(["sessions", "show", "group:slack:C2"]);
  assert.equal(doc2.summary?.text, `earlier ${PAYLOAD}`, "--json keeps the summary exactly");
  assert.equal(doc2.messages.at(-1)?.toolCalls?.[0]?.arguments, ARGS, "--json keeps tool arguments exactly");

  const setJson = await sb.json<{ preferences: Record<string, unknown> }>(["sessions", "set", "group:slack:C1", "--pref", `tone=${PAYLOAD}`]);
  assert.equal(setJson.preferences.tone, PAYLOAD, "set --json is exact");
});

// Characters that hide or reorder text on screen: "gnp.exe" after U+202E reads "exe.png".
const BIDI = "photo \u202egnp.exe";
const HIDDEN = `a\u200bb\u2066c\u2069\ufeffd`;
// The joiner (U+200D) is left out: inside an emoji sequence it is shown as is.
const INVISIBLE_RAW = /[\u200b\u200c\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]/;

test("show, list, search and context escape bidi controls and zero-width characters; stored text is unchanged", async (t) => {
  const sb = await sandbox(t);
  const text = `cr\rhere ${BIDI} ${HIDDEN} family 👨\u200d👩\u200d👧`;
  await sb.ok(["sessions", "append", "--dm", "telegram:7", text]);
  await sb.ok(["sessions", "set", "dm:telegram:7", "--label", `label ${BIDI}`]);
  const outputs: Array<[string, string]> = [];
  for (const args of [
    ["sessions", "show", "dm:telegram:7"],
    ["sessions", "list"],
    ["sessions", "search", "photo"],
    ["sessions", "search", "label"],
    ["sessions", "context", "dm:telegram:7"],
  ]) {
    const r = await sb.run(args);
    assertSafe(r, args.join(" "));
    assert.equal(INVISIBLE_RAW.exec(r.stdout), null, `${args.join(" ")} holds a raw invisible character: ${JSON.stringify(r.stdout)}`);
    outputs.push([args.join(" "), r.stdout]);
  }
  const [show, list, search, searchLabel, context] = outputs.map(([, out]) => out) as [string, string, string, string, string];
  for (const [what, out] of [
    ["show", show],
    ["search", search],
    ["context", context],
  ] as const) {
    assert.ok(out.includes("photo \\u202egnp.exe"), `${what} shows U+202E escaped: ${out}`);
    assert.ok(out.includes("a\\u200bb\\u2066c\\u2069\\ufeffd"), `${what} shows zero-width and isolate characters escaped`);
  }
  assert.ok(show.includes("👨\u200d👩\u200d👧"), "a joiner inside an emoji sequence is kept");
  assert.ok(list.includes("label photo \\u202egnp.exe"), `list shows the label escaped: ${list}`);
  assert.ok(searchLabel.includes("\\u202e"), `search shows a matched label escaped: ${searchLabel}`);
  assert.ok(show.includes("cr\\rhere") && search.includes("cr\\rhere"), "search escapes a carriage return as show does");
  assert.match(context, /\(< 0\.1 % of the budget\)/, "a small non-zero share reads < 0.1 %, not 0.0 %");
  const doc = await sb.json<Session>(["sessions", "show", "dm:telegram:7"]);
  assert.equal(doc.messages[0]?.content, text, "--json keeps the message exactly");
  assert.equal(doc.label, `label ${BIDI}`);
});
