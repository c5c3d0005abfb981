import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import type { Message, Session } from "../../src/session/types.js";
import { seed } from "../helpers/cli-fixtures.js";
import { errorLine, sandbox, snapshot } from "../helpers/cli-run.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

interface AppendJson {
  id: string;
  key: string;
  status: string;
  messageCount: number;
  messageId: string;
  duplicate: boolean;
}

test("append routes dm, group and isolated messages, creating sessions when needed", async (t) => {
  const sb = await sandbox(t);
  const first = await sb.ok(["sessions", "append", "--dm", "telegram:42", "Book a table for 4 at 19:30"]);
  const id = first.stdout.trim();
  assert.match(id, UUID, "prints the session id and nothing else");
  const second = await sb.json<AppendJson>(["sessions", "append", "--dm", "telegram:42", "--role", "assistant", "Booked, ref INV-0042"]);
  assert.deepEqual({ ...second, messageId: undefined }, { id, key: "dm:telegram:42", status: "active", messageCount: 2, messageId: undefined, duplicate: false });
  assert.match(second.messageId, UUID);

  const group = await sb.json<AppendJson>(["sessions", "append", "--group", "slack:C1", "--from", "alice", "hi all"]);
  assert.equal(group.key, "group:slack:C1");

  const iso1 = await sb.json<AppendJson>(["sessions", "append", "--isolated", "research", "find papers"]);
  const iso2 = await sb.json<AppendJson>(["sessions", "append", "--isolated", "research", "find more papers"]);
  assert.notEqual(iso1.id, iso2.id, "--isolated always starts a new session");
  assert.match(iso1.key, /^isolated:research:/);

  const dm = await sb.json<Session>(["sessions", "show", id]);
  assert.deepEqual(
    dm.messages.map((m) => [m.role, m.sender, m.content]),
    [
      ["user", "42", "Book a table for 4 at 19:30"],
      ["assistant", null, "Booked, ref INV-0042"],
    ],
  );
  const g = await sb.json<Session>(["sessions", "show", "group:slack:C1"]);
  assert.equal(g.messages[0]?.sender, "alice");
  const iso = await sb.json<Session>(["sessions", "show", iso1.id]);
  assert.equal(iso.messages[0]?.sender, "cli");
});

test("append - reads stdin; --session, --pin, --role and --from are honoured", async (t) => {
  const sb = await sandbox(t);
  const env = await seed(sb, [{ key: "group:slack:C1", messages: 1 }]);
  const id = env.sessions[0]?.id ?? "";
  const r = await sb.json<AppendJson>(["sessions", "append", "--session", id.slice(0, 30), "--from", "bob", "--pin", "--role", "user", "-"], {
    input: "remember: invoice INV-77\n",
  });
  assert.equal(r.id, id);
  assert.equal(r.messageCount, 2);
  const doc = await sb.json<Session>(["sessions", "show", id]);
  const last = doc.messages.at(-1) as Message;
  assert.equal(last.content, "remember: invoice INV-77", "one trailing newline from the pipe is dropped");
  assert.equal(last.pinned, true);
  assert.equal(last.sender, "bob");
});

test("a 10 MB message via stdin is refused with MESSAGE_TOO_LARGE and nothing is written", async (t) => {
  const sb = await sandbox(t);
  await seed(sb, [{ key: "dm:telegram:42" }]);
  const before = await snapshot(sb.home);
  const big = Buffer.alloc(10 * 1024 * 1024, "a");
  for (const target of [
    ["--dm", "telegram:99"],
    ["--isolated", "big"],
    ["--session", "dm:telegram:42"],
  ]) {
    const r = await sb.run(["sessions", "append", ...target, "-"], { input: big });
    assert.equal(r.code, 1, target.join(" "));
    assert.equal(errorLine(r), "error: message is 10485760 bytes, over the limit of 1048576 bytes (sessions.maxMessageBytes); nothing was recorded");
    assert.equal(r.stdout, "");
  }
  assert.deepEqual(await snapshot(sb.home), before, "no session created, nothing changed");
});

test("append refuses empty text, archived sessions and bad identifiers", async (t) => {
  const sb = await sandbox(t);
  await seed(sb, [{ key: "dm:telegram:42", status: "archived" }]);
  const before = await snapshot(sb.home);
  const empty = await sb.run(["sessions", "append", "--dm", "telegram:1", "-"], { input: "" });
  assert.equal(empty.code, 1);
  assert.match(errorLine(empty), /message text is empty/);
  const archived = await sb.run(["sessions", "append", "--session", "dm:telegram:42", "late"]);
  assert.equal(archived.code, 1);
  assert.match(errorLine(archived), /is archived and read-only: run "openclaw sessions unarchive /);
  const badUser = await sb.run(["sessions", "append", "--dm", "telegram:../../x", "hi"]);
  assert.equal(badUser.code, 1);
  assert.match(errorLine(badUser), /^error: invalid /);
  assert.deepEqual(await snapshot(sb.home), before);
});

test("set edits preferences (JSON when it parses), tools and the system prompt", async (t) => {
  const sb = await sandbox(t);
  await seed(sb, [{ key: "dm:telegram:42", preferences: { old: 1, keep: "yes" }, tools: { allow: ["*"], deny: [] } }]);
  const r = await sb.json<{ id: string; key: string; preferences: Record<string, unknown>; tools: { allow: string[]; deny: string[] }; systemPrompts: Array<{ content: string }> }>([
    "sessions",
    "set",
    "dm:telegram:42",
    "--pref",
    "language=fr",
    "--pref",
    "max=5",
    "--pref",
    "quiet=true",
    "--pref",
    "nothing=null",
    "--pref",
    'units={"distance":"km"}',
    "--pref",
    "note=hello world",
    "--pref",
    "eq=a=b",
    "--unset-pref",
    "old",
    "--allow-tool",
    "web.*",
    "--deny-tool",
    "shell.*",
    "--deny-tool",
    "web.post",
    "--system",
    "You are terse.",
  ]);
  assert.equal(r.key, "dm:telegram:42");
  assert.deepEqual(r.preferences, { keep: "yes", language: "fr", max: 5, quiet: true, nothing: null, units: { distance: "km" }, note: "hello world", eq: "a=b" });
  assert.deepEqual(r.tools, { allow: ["*", "web.*"], deny: ["shell.*", "web.post"] });
  assert.deepEqual(
    r.systemPrompts.map((p) => p.content),
    ["You are terse."],
  );

  const before = await snapshot(sb.home);
  for (const [args, expected] of [
    [["--pref", "ok=1", "--pref", "bad key=1"], /^error: invalid preference key "bad key"/],
    [["--pref", "ok=1", "--deny-tool", "rm -rf"], /^error: invalid tool pattern "rm -rf"/],
  ] as const) {
    const r = await sb.run(["sessions", "set", "dm:telegram:42", ...args]);
    assert.equal(r.code, 1);
    assert.match(errorLine(r), expected);
  }
  assert.deepEqual(await snapshot(sb.home), before, "a half-valid set changes nothing");

  const human = await sb.ok(["sessions", "set", "dm:telegram:42", "--system", ""]);
  assert.match(human.stdout, /^updated \S+ dm:telegram:42: removed the system prompt$/m);
  const doc = await sb.json<Session>(["sessions", "show", "dm:telegram:42"]);
  assert.deepEqual(doc.systemPrompts, []);
});

test("clear removes the history and keeps id, key, preferences, tools and system prompts", async (t) => {
  const sb = await sandbox(t);
  const env = await seed(sb, [{ key: "dm:telegram:42", messages: 4, pruned: 3, summary: "earlier", preferences: { language: "fr" }, tools: { allow: ["calc"], deny: ["shell"] }, systemPrompt: "Be kind." }]);
  const before = env.sessions[0];
  assert.ok(before);
  const r = await sb.ok(["sessions", "clear", "dm:telegram:42"]);
  assert.match(r.stdout, /^cleared \S+ \(dm:telegram:42\): removed 4 messages, the summary, 3 messages of pruned history; kept preferences, tools and system prompts\n$/);
  const doc = await sb.json<Session & { prunedHistory: Message[] }>(["sessions", "show", "dm:telegram:42", "--all"]);
  assert.equal(doc.id, before.id);
  assert.equal(doc.key, before.key);
  assert.deepEqual(doc.preferences, before.preferences);
  assert.deepEqual(doc.tools, before.tools);
  assert.deepEqual(doc.systemPrompts, before.systemPrompts);
  assert.deepEqual(doc.messages, []);
  assert.equal(doc.summary, null);
  assert.deepEqual(doc.prunedHistory, []);
  const again = await sb.json(["sessions", "clear", before.id]);
  assert.deepEqual(again, { id: before.id, key: "dm:telegram:42", messages: 0, pruned: 0, summary: false });
});

test("archive hides a session from the default list; --status archived shows it; unarchive brings it back", async (t) => {
  const sb = await sandbox(t);
  await seed(sb, [{ key: "dm:telegram:42" }, { key: "dm:telegram:43" }]);
  const r = await sb.ok(["sessions", "archive", "dm:telegram:42"]);
  assert.match(r.stdout, /^archived \S+ dm:telegram:42 → archived$/m);
  const keys = async (...args: string[]) => (await sb.json<{ sessions: Array<{ key: string }> }>(["sessions", "list", ...args])).sessions.map((s) => s.key);
  assert.deepEqual(await keys(), ["dm:telegram:43"]);
  assert.deepEqual(await keys("--status", "archived"), ["dm:telegram:42"]);

  const twice = await sb.run(["sessions", "archive", "dm:telegram:43", "dm:telegram:42"]);
  assert.equal(twice.code, 1);
  assert.match(errorLine(twice), /is already archived; nothing was changed/);
  assert.deepEqual(await keys(), ["dm:telegram:43"], "the valid ref in a refused command was not archived either");

  const back = await sb.json<{ sessions: Array<{ key: string; status: string }>; count: number }>(["sessions", "unarchive", "dm:telegram:42"]);
  assert.deepEqual(
    back.sessions.map((s) => [s.key, s.status]),
    [["dm:telegram:42", "active"]],
  );
  assert.equal((await keys()).length, 2);
  const notArchived = await sb.run(["sessions", "unarchive", "dm:telegram:42"]);
  assert.equal(notArchived.code, 1);
  assert.match(errorLine(notArchived), /is not archived/);
});

test("set and clear refuse an archived session with the same error append gives, writing nothing", async (t) => {
  const sb = await sandbox(t);
  const id = (await sb.ok(["sessions", "append", "--dm", "telegram:77", "hello"])).stdout.trim();
  await sb.ok(["sessions", "archive", id]);
  const appended = await sb.run(["sessions", "append", "--session", id, "more"]);
  const before = await snapshot(sb.stateDir);
  const set = await sb.run(["sessions", "set", id, "--pref", "units=metric"]);
  const clear = await sb.run(["sessions", "clear", id]);
  for (const r of [appended, set, clear]) {
    assert.equal(r.code, 1);
    assert.equal(errorLine(r), `error: session ${id} is archived and read-only: run "openclaw sessions unarchive ${id}" first`);
  }
  assert.deepEqual(await snapshot(sb.stateDir), before);
  const unarchived = await sb.run(["sessions", "append", "--dm", "telegram:77", "new"]);
  assert.equal(unarchived.code, 0);
  const r = await sb.run(["sessions", "unarchive", id]);
  assert.equal(r.code, 1);
  assert.match(errorLine(r), /already live for dm:telegram:77; archive .* first/);
});

test("after expiry, append says a new session was started and carries over what the operator set", async (t) => {
  const sb = await sandbox(t);
  // Last active five minutes ago: once expiry is cut to a minute, the session has expired without the test waiting.
  const [seeded] = (await seed(sb, [{ key: "dm:telegram:88", idleMinutes: 5 }])).sessions;
  const id = seeded!.id;
  await sb.ok(["sessions", "set", id, "--pref", "units=metric", "--deny-tool", "shell.*", "--system", "Be brief."]);
  await mkdir(sb.stateDir, { recursive: true });
  await writeFile(join(sb.stateDir, "config.json"), JSON.stringify({ sessions: { expirationMs: 60_000 } }));
  const r = await sb.run(["sessions", "append", "--dm", "telegram:88", "--json", "back"]);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { id: string; started: { reason: string; previousId: string; carriedOver: boolean } };
  assert.notEqual(out.id, id);
  assert.deepEqual(out.started, { reason: "previous session expired", previousId: id, carriedOver: true });
  assert.match(r.stderr, new RegExp(`^note: started a new session for dm:telegram:88: the previous session expired \\(${id}\\); its preferences, tool policy and system prompts were carried over$`, "m"));
  const doc = await sb.json<Session>(["sessions", "show", out.id]);
  assert.equal(doc.preferences.units, "metric");
  assert.deepEqual(doc.tools.deny, ["shell.*"]);
  assert.deepEqual(
    doc.systemPrompts.map((p) => p.content),
    ["Be brief."],
  );
});
