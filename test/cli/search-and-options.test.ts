import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { seed } from "../helpers/cli-fixtures.js";
import { errorLine, sandbox, type Sandbox } from "../helpers/cli-run.js";

interface Hit {
  sessionId: string;
  key: string;
  messageId: string;
  role: string;
  sender: string | null;
  createdAt: string;
  pruned: boolean;
  line: string;
}
interface SearchJson {
  hits: Hit[];
  count: number;
  sessionsSearched: number;
}
interface Tools {
  tools: { allow: string[]; deny: string[] };
}

async function append(sb: Sandbox, target: string[], text: string): Promise<{ id: string; messageId: string }> {
  return sb.json<{ id: string; messageId: string }>(["sessions", "append", ...target, text]);
}

test("sessions search: case-insensitive, newest first, non-archived by default, filters and --limit", async (t) => {
  const sb = await sandbox(t);
  const env = await seed(sb, [{ key: "dm:telegram:42" }, { key: "group:slack:C1" }, { key: "dm:telegram:7", status: "archived" }]);
  const archivedId = env.sessions[2]?.id ?? "";
  const a = await append(sb, ["--dm", "telegram:42"], "please send Invoice INV-42 again");
  const b = await append(sb, ["--group", "slack:C1", "--from", "bob"], "first line\nwhere is inv-42 now?");
  // An archived session takes no appends: its stored history is searched only with --status.

  const r = await sb.json<SearchJson>(["sessions", "search", "INV-42"]);
  assert.equal(r.count, 2);
  assert.equal(r.sessionsSearched, 2, "the archived session is not searched by default");
  assert.deepEqual(
    r.hits.map((h) => h.messageId),
    [b.messageId, a.messageId],
    "newest first",
  );
  const [top] = r.hits;
  assert.deepEqual(
    { ...top, createdAt: undefined },
    {
      sessionId: b.id,
      key: "group:slack:C1",
      messageId: b.messageId,
      role: "user",
      sender: "bob",
      createdAt: undefined,
      pruned: false,
      line: "where is inv-42 now?",
    },
  );
  assert.ok(!Number.isNaN(Date.parse(top?.createdAt ?? "")));

  const dm = await sb.json<SearchJson>(["sessions", "search", "inv-42", "--kind", "dm"]);
  assert.deepEqual(
    dm.hits.map((h) => h.sessionId),
    [a.id],
  );
  const slack = await sb.json<SearchJson>(["sessions", "search", "inv-42", "--channel", "slack"]);
  assert.deepEqual(
    slack.hits.map((h) => h.sessionId),
    [b.id],
  );
  const one = await sb.json<SearchJson>(["sessions", "search", "inv-42", "--limit", "1"]);
  assert.deepEqual(
    one.hits.map((h) => h.messageId),
    [b.messageId],
  );
  assert.equal(one.count, 1);

  const all = await sb.json<SearchJson>(["sessions", "search", "ships friday", "--status", "all"]);
  assert.equal(all.sessionsSearched, 3);
  assert.ok(
    all.hits.some((h) => h.sessionId === archivedId),
    "--status all reaches archived sessions",
  );
  const archived = await sb.json<SearchJson>(["sessions", "search", "ships friday", "--status", "archived"]);
  assert.deepEqual([...new Set(archived.hits.map((h) => h.sessionId))], [archivedId]);
});

test("sessions search --include-pruned also reads the pruned history", async (t) => {
  const sb = await sandbox(t);
  const env = await seed(sb, [{ key: "dm:telegram:42", messages: 2, pruned: 3, summary: "earlier talk" }]);
  const id = env.sessions[0]?.id ?? "";
  // The pruned log holds messages 0–2, the active history 0–1: "order #1002" is only in the pruned log.
  const without = await sb.json<SearchJson>(["sessions", "search", "order #1002"]);
  assert.deepEqual(without, { hits: [], count: 0, sessionsSearched: 1, complete: true, sessions: [] });
  const withPruned = await sb.json<SearchJson>(["sessions", "search", "order #1002", "--include-pruned"]);
  assert.equal(withPruned.count, 1);
  assert.equal(withPruned.hits[0]?.sessionId, id);
  assert.equal(withPruned.hits[0]?.pruned, true);
  assert.equal(withPruned.hits[0]?.line, "question 2: what about order #1002?");
});

test("sessions search --regex; an invalid regex is a usage error; plain text is literal", async (t) => {
  const sb = await sandbox(t);
  await seed(sb, [{ key: "dm:telegram:42", messages: 4 }]);
  const re = await sb.json<SearchJson>(["sessions", "search", "--regex", "ORDER #100[02]\\?"]);
  assert.deepEqual(re.hits.map((h) => h.line).sort(), ["question 0: what about order #1000?", "question 2: what about order #1002?"]);
  const literal = await sb.json<SearchJson>(["sessions", "search", "order #100[02]"]);
  assert.equal(literal.count, 0, "without --regex the pattern characters are plain text");
  const bad = await sb.run(["sessions", "search", "--regex", "(unclosed"]);
  assert.equal(bad.code, 2);
  assert.match(errorLine(bad), /^error: invalid --regex: /);
  assert.equal(bad.stdout, "");
});

test("sessions search: human output is a table of visible text with the line trimmed around the match", async (t) => {
  const sb = await sandbox(t);
  await append(sb, ["--dm", "telegram:42"], "\u001b]0;pwned\u0007 alert \u001b[31mRED\u001b[0m");
  const long = `${"a".repeat(200)} needle ${"b".repeat(200)}`;
  const l = await append(sb, ["--dm", "telegram:42"], long);
  const r = await sb.ok(["sessions", "search", "alert"]);
  assert.ok(!r.stdout.includes("\u001b"), "no raw escape reaches the terminal");
  assert.match(r.stdout, /^TIME\s+SESSION\s+KEY\s+ROLE\s+SENDER\s+LINE/m);
  assert.match(r.stdout, /\\x1b\]0;pwned\\x07 alert \\x1b\[31mRED/);
  assert.match(r.stdout, /1 hit; 1 session searched/);

  const j = await sb.json<SearchJson>(["sessions", "search", "NEEDLE"]);
  assert.equal(j.hits[0]?.messageId, l.messageId);
  assert.equal(j.hits[0]?.line, `…${"a".repeat(39)} needle ${"b".repeat(39)}…`);

  const none = await sb.ok(["sessions", "search", "absent"]);
  assert.equal(none.stdout, "no matches; 1 session searched\n");
});

test("sessions set --remove-allow / --remove-deny (repeatable) and --reset-tools", async (t) => {
  const sb = await sandbox(t);
  await mkdir(sb.stateDir, { recursive: true });
  await writeFile(join(sb.stateDir, "config.json"), JSON.stringify({ sessions: { tools: { dm: { allow: ["web.*", "calc"], deny: ["shell.*"] } } } }));
  const env = await seed(sb, [{ key: "dm:telegram:42", tools: { allow: ["*", "web.*", "mail.*"], deny: ["fs.*", "net.*", "shell.*"] } }]);
  const id = env.sessions[0]?.id ?? "";

  const removed = await sb.json<Tools>(["sessions", "set", id, "--remove-allow", "web.*", "--remove-allow", "mail.*", "--remove-deny", "fs.*"]);
  assert.deepEqual(removed.tools, { allow: ["*"], deny: ["net.*", "shell.*"] });
  const human = await sb.ok(["sessions", "set", id, "--remove-deny", "net.*"]);
  assert.match(human.stdout, /removed from deny net\.\*/);

  const reset = await sb.json<Tools>(["sessions", "set", id, "--reset-tools"]);
  assert.deepEqual({ allow: [...reset.tools.allow].sort(), deny: [...reset.tools.deny].sort() }, { allow: ["calc", "web.*"], deny: ["shell.*"] });

  const clash = await sb.run(["sessions", "set", id, "--reset-tools", "--allow-tool", "x"]);
  assert.equal(clash.code, 2);
  assert.match(errorLine(clash), /--reset-tools cannot be combined/);
  const both = await sb.run(["sessions", "set", id, "--allow-tool", "x", "--remove-allow", "x"]);
  assert.equal(both.code, 2);
});

test("sessions list --offset pages through the listing", async (t) => {
  const sb = await sandbox(t);
  const env = await seed(
    sb,
    [1, 2, 3, 4, 5].map((n) => ({ key: `dm:telegram:${n}`, idleMinutes: n })),
  );
  const ids = env.sessions.map((s) => s.id);
  const page = await sb.json<{ sessions: { id: string }[]; count: number; total: number }>(["sessions", "list", "--limit", "2", "--offset", "1"]);
  assert.deepEqual(
    page.sessions.map((s) => s.id),
    ids.slice(1, 3),
  );
  assert.equal(page.total, 5);
  const human = await sb.ok(["sessions", "list", "--limit", "2", "--offset", "3"]);
  assert.match(human.stdout, /4–5 of 5 sessions/);
  const past = await sb.ok(["sessions", "list", "--offset", "9"]);
  assert.match(past.stdout, /no sessions past offset 9 \(5 sessions in all\)/);
  const neg = await sb.run(["sessions", "list", "--offset", "-1"]);
  assert.equal(neg.code, 2);
});

test("config validate --json: one document when valid, and {valid:false, error} with exit 1 when not", async (t) => {
  const sb = await sandbox(t);
  const path = join(sb.stateDir, "config.json");
  await mkdir(sb.stateDir, { recursive: true });
  await writeFile(path, JSON.stringify({ sessions: { maxHistoryLength: 50, colour: "blue" } }));
  const ok = await sb.json<{ path: string; valid: boolean; warnings: string[] }>(["config", "validate"]);
  assert.deepEqual(ok, { path, valid: true, warnings: ["config.json: unknown key sessions.colour is ignored"] });

  await writeFile(path, JSON.stringify({ sessions: { maxHistoryLength: "abc" } }));
  const bad = await sb.run(["config", "validate", "--json"]);
  assert.equal(bad.code, 1);
  const message = 'config.json: sessions.maxHistoryLength: expected an integer ≥ 1, got "abc"';
  assert.equal(errorLine(bad), `error: ${message}`);
  assert.deepEqual(JSON.parse(bad.stdout), { path, valid: false, error: message });
});

test("search stops once older sessions cannot hold a newer hit, and says so", async (t) => {
  const sb = await sandbox(t);
  // Fixture messages are dated an hour before each session's last activity.
  const envelope = await seed(
    sb,
    Array.from({ length: 100 }, (_, i) => ({ key: `dm:telegram:${i}`, idleMinutes: 5 + i * 90 })),
  );
  const newest = envelope.sessions.slice(0, 4).map((s) => s.id);
  const r = await sb.json<{ hits: Hit[]; count: number; sessionsSearched: number; complete: boolean }>(["sessions", "search", "ships friday", "--limit", "4"]);
  assert.equal(r.complete, false);
  assert.ok(r.sessionsSearched < 100, `searched ${r.sessionsSearched} of 100 sessions`);
  assert.equal(r.count, 4);
  assert.ok(
    r.hits.every((h) => newest.includes(h.sessionId)),
    "the newest hits come from the newest sessions",
  );
  const dates = r.hits.map((h) => Date.parse(h.createdAt));
  assert.deepEqual(
    dates,
    [...dates].sort((a, b) => b - a),
    "newest first",
  );
  const all = await sb.json<{ hits: Hit[]; complete: boolean }>(["sessions", "search", "ships friday", "--limit", "1000"]);
  assert.equal(all.complete, true);
  assert.deepEqual(
    all.hits.slice(0, 4).map((h) => h.messageId),
    r.hits.map((h) => h.messageId),
    "the same hits a full search puts first",
  );
  const human = await sb.ok(["sessions", "search", "ships friday", "--limit", "4"]);
  assert.match(human.stdout, /the newest 4 hits; older sessions were not searched, as they cannot hold newer ones/);
});
