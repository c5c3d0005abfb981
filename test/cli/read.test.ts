import assert from "node:assert/strict";
import { test } from "node:test";
import { seed, type FixtureSpec } from "../helpers/cli-fixtures.js";
import { errorLine, sandbox, snapshot } from "../helpers/cli-run.js";

interface ListJson {
  sessions: Array<Record<string, unknown> & { id: string; key: string; status: string }>;
  count: number;
  total: number;
}

const MIXED: FixtureSpec[] = [
  { key: "dm:telegram:42", idleMinutes: 5, messages: 4 },
  { key: "group:slack:C024BE91L", idleMinutes: 1, messages: 3 },
  { key: "dm:discord:987", idleMinutes: 30, messages: 2 },
  { key: "dm:telegram:7", idleMinutes: 3 * 24 * 60, messages: 2 },
  { key: "isolated:research:01234567", status: "archived", idleMinutes: 60, messages: 1 },
];

test("list on an empty store says so; --json gives the empty shape", async (t) => {
  const sb = await sandbox(t);
  const human = await sb.ok(["sessions", "list"]);
  assert.match(human.stdout, /^no sessions/);
  assert.deepEqual(await sb.json(["sessions", "list"]), { sessions: [], count: 0, total: 0 });
});

test("list: newest activity first, archived hidden, filters, --json shape", async (t) => {
  const sb = await sandbox(t);
  await seed(sb, MIXED);
  const all = await sb.json<ListJson>(["sessions", "list"]);
  assert.deepEqual(
    all.sessions.map((s) => s.key),
    ["group:slack:C024BE91L", "dm:telegram:42", "dm:discord:987", "dm:telegram:7"],
  );
  assert.equal(all.count, 4);
  assert.equal(all.total, 4);
  const first = all.sessions[0];
  assert.ok(first);
  for (const field of ["id", "key", "kind", "channel", "status", "messageCount", "tokens", "createdAt", "lastActivityAt"]) {
    assert.ok(field in first, `list item lacks ${field}`);
  }
  assert.equal(first.kind, "group");
  assert.equal(first.channel, "slack");
  assert.equal(first.messageCount, 3);
  assert.equal(all.sessions[3]?.status, "expired", "expiry is evaluated on read");

  assert.deepEqual(
    (await sb.json<ListJson>(["sessions", "list", "--status", "archived"])).sessions.map((s) => s.key),
    ["isolated:research:01234567"],
  );
  assert.equal((await sb.json<ListJson>(["sessions", "list", "--status", "all"])).total, 5);
  assert.deepEqual(
    (await sb.json<ListJson>(["sessions", "list", "--status", "expired"])).sessions.map((s) => s.key),
    ["dm:telegram:7"],
  );
  assert.deepEqual(
    (await sb.json<ListJson>(["sessions", "list", "--kind", "group"])).sessions.map((s) => s.key),
    ["group:slack:C024BE91L"],
  );
  assert.deepEqual(
    (await sb.json<ListJson>(["sessions", "list", "--channel", "telegram"])).sessions.map((s) => s.key),
    ["dm:telegram:42", "dm:telegram:7"],
  );
  assert.deepEqual(
    (await sb.json<ListJson>(["sessions", "list", "--active", "10"])).sessions.map((s) => s.key),
    ["group:slack:C024BE91L", "dm:telegram:42"],
  );
  const limited = await sb.json<ListJson>(["sessions", "list", "--limit", "2"]);
  assert.equal(limited.count, 2);
  assert.equal(limited.total, 4);
});

test("list prints an aligned table with relative times", async (t) => {
  const sb = await sandbox(t);
  await seed(sb, MIXED);
  const r = await sb.ok(["sessions", "list", "--limit", "3"]);
  const lines = r.stdout.trimEnd().split("\n");
  assert.match(lines[0] ?? "", /^REF\s+KEY\s+KIND\s+STATUS\s+MSGS\s+TOKENS\s+USED\s+LAST ACTIVITY\s+LABEL \/ ORIGIN$/);
  const keyColumn = (lines[0] ?? "").indexOf("KEY");
  for (const line of lines.slice(1, 4)) assert.match(line.slice(keyColumn), /^(dm|group):/, `column not aligned: ${line}`);
  assert.match(lines[1] ?? "", /group:slack:C024BE91L .*1 min ago\s+-$/);
  assert.match(lines[2] ?? "", /dm:telegram:42 .*5 min ago\s+-$/);
  assert.match(lines[3] ?? "", /dm:discord:987 .*30 min ago\s+-$/);
  assert.match(lines[4] ?? "", /^3 of 4 sessions/);
  assert.doesNotMatch(r.stdout, /\x1b\[/, "no colour when NO_COLOR is set and stdout is a pipe");
});

test("show: metadata, preferences, tools, system prompt, context usage, summary, messages", async (t) => {
  const sb = await sandbox(t);
  const env = await seed(sb, [
    {
      key: "dm:telegram:42",
      messages: 6,
      pruned: 3,
      preferences: { language: "fr", units: { distance: "km" } },
      tools: { allow: ["web.*", "calc"], deny: ["web.post"] },
      systemPrompt: "You are Openclaw, a concise assistant.",
      summary: "The user asked about order #1000 and #1001.",
    },
  ]);
  const r = await sb.ok(["sessions", "show", "dm:telegram:42", "--messages", "2"]);
  const out = r.stdout;
  assert.match(out, new RegExp(`^session ${env.sessions[0]?.id}  dm:telegram:42$`, "m"));
  assert.match(out, /^\s+status\s+active$/m);
  assert.match(out, /^\s+language\s+"fr"$/m);
  assert.match(out, /^\s+units\s+\{"distance":"km"\}$/m);
  assert.match(out, /^\s+allow\s+web\.\*, calc$/m);
  assert.match(out, /^\s+deny\s+web\.post$/m);
  assert.match(out, /You are Openclaw, a concise assistant\./);
  assert.match(out, /^\s+window\s+128,000 tokens \(reserve 4,096 for the reply, budget 123,904\)$/m);
  assert.match(out, /^\s+stored\s+101 tokens = < 0\.1 % of the window, < 0\.1 % of the budget \(system 9 · summary 20 · pinned 0 · messages 72\)$/m);
  assert.match(out, /^\s+sent to model\s+\d+ tokens \(system 9 · summary \d+ · pinned 0 · recent 72\)$/m);
  assert.match(out, /^\s+compactions\s+1$/m);
  assert.match(out, /^summary \(covers 3 messages · 20 tokens · extractive/m);
  assert.match(out, /The user asked about order #1000 and #1001\./);
  assert.match(out, /^messages \(last 2 of 6; 3 earlier folded into the summary\)$/m);
  assert.match(out, /answer 5: order #1005 ships Friday/);
  assert.doesNotMatch(out, /question 0/);
  assert.doesNotMatch(out, /pruned history/);

  const all = await sb.ok(["sessions", "show", "dm:telegram:42", "--all"]);
  assert.match(all.stdout, /^pruned history \(3 messages folded into the summary, oldest first\)$/m);
});

test("show --json is the full session document; --all adds the pruned history", async (t) => {
  const sb = await sandbox(t);
  const env = await seed(sb, [{ key: "group:slack:C1", messages: 3, pruned: 2, preferences: { tone: "brief" }, summary: "earlier talk" }]);
  const exported = env.sessions[0];
  assert.ok(exported);
  const doc = await sb.json<Record<string, unknown>>(["sessions", "show", "group:slack:C1"]);
  const { prunedHistory, ...expected } = exported;
  for (const [k, v] of Object.entries(expected)) assert.deepEqual(doc[k], v, `field ${k}`);
  assert.equal(typeof doc.revision, "number");
  assert.equal("prunedHistory" in doc, false);
  const withLog = await sb.json<{ prunedHistory: unknown[] }>(["sessions", "show", "group:slack:C1", "--all"]);
  assert.deepEqual(withLog.prunedHistory, prunedHistory);
});

test("a ref is a full id, a unique prefix of ≥ 6 characters, or a routing key", async (t) => {
  const sb = await sandbox(t);
  const env = await seed(sb, [{ key: "dm:telegram:42" }, { key: "dm:telegram:43" }]);
  const [a, b] = env.sessions;
  assert.ok(a && b);
  for (const ref of [a.id, a.id.slice(0, 30), a.id.toUpperCase().slice(0, 30), "dm:telegram:42"]) {
    const doc = await sb.json<{ id: string }>(["sessions", "show", ref]);
    assert.equal(doc.id, a.id, ref);
  }
  // Both ids were minted within milliseconds, so they share their first 8 characters.
  const shared = a.id.slice(0, 8);
  assert.equal(b.id.slice(0, 8), shared);
  const ambiguous = await sb.run(["sessions", "show", shared]);
  assert.equal(ambiguous.code, 1);
  const line = errorLine(ambiguous);
  assert.match(line, /ambiguous/);
  assert.ok(line.includes(a.id) && line.includes(b.id), line);

  const short = await sb.run(["sessions", "show", "01a2"]);
  assert.equal(short.code, 1);
  assert.match(errorLine(short), /too short: give at least 6 characters/);
});

test("an unknown ref is exactly `no session matches`, exit 1, for every command that takes one", async (t) => {
  const sb = await sandbox(t);
  await seed(sb, [{ key: "dm:telegram:42" }]);
  const id = "0190aaaa-bbbb-7ccc-8ddd-eeeeeeeeeeee";
  const cases: Array<[string, string[]]> = [
    ...[["show"], ["clear"], ["delete"], ["archive"], ["unarchive"], ["export"], ["set", "--pref", "a=1"], ["compact"]].map(([command, ...rest]): [string, string[]] => [id, [command ?? "", id, ...rest]]),
    [id, ["append", "--session", id, "hi"]],
    ["dm:telegram:999", ["show", "dm:telegram:999"]],
    ["dm:telegram:999", ["delete", "dm:telegram:999"]],
    ["abcdef12", ["show", "abcdef12"]],
  ];
  for (const [ref, args] of cases) {
    const r = await sb.run(["sessions", ...args]);
    assert.equal(r.code, 1, args.join(" "));
    assert.equal(r.stderr, `error: no session matches "${ref}"\n`, args.join(" "));
    assert.equal(r.stdout, "");
  }
});

test("a hostile ref is one error line, exit 1, and nothing is written", async (t) => {
  const sb = await sandbox(t);
  await seed(sb, [{ key: "dm:telegram:42" }]);
  const before = await snapshot(sb.home);
  const every = (ref: string) => [
    ["show", ref],
    ["delete", ref],
    ["clear", ref],
    ["archive", ref],
    ["set", ref, "--pref", "a=1"],
    ["append", "--session", ref, "hi"],
  ];
  const cases = [...every("../../etc/passwd"), ["show", "dm:../../x:1"], ["delete", "/etc/passwd"], ["export", "group:slack:C1/../../y"]];
  for (const args of cases) {
    const r = await sb.run(["sessions", ...args]);
    assert.equal(r.code, 1, `${args.join(" ")}: ${r.stderr}`);
    assert.match(errorLine(r), /^error: invalid (session reference|routing key) /);
  }
  assert.deepEqual(await snapshot(sb.home), before);
});

test("status: sessions by status and kind; --verbose adds usage, largest and memory", async (t) => {
  const sb = await sandbox(t);
  await seed(sb, MIXED);
  const s = await sb.json<{ total: number; byStatus: Record<string, number>; byKind: Record<string, number>; sizeOnDisk: number; stateDir: string }>(["status"]);
  assert.equal(s.total, 5);
  assert.deepEqual(s.byStatus, { created: 0, active: 3, expired: 1, archived: 1 });
  assert.deepEqual(s.byKind, { dm: 3, group: 1, isolated: 1 });
  assert.ok(s.sizeOnDisk > 0);
  assert.equal(s.stateDir, sb.stateDir);
  const human = await sb.ok(["status"]);
  assert.match(human.stdout, /^\s+sessions\s+5$/m);
  assert.match(human.stdout, /^\s+by status\s+created 0 · active 3 · expired 1 · archived 1$/m);

  const v = await sb.json<{ verbose: { sessions: unknown[]; largest: unknown[]; memory: { rss: number } } }>(["status", "--verbose"]);
  assert.equal(v.verbose.sessions.length, 4);
  assert.ok(v.verbose.largest.length > 0);
  assert.ok(v.verbose.memory.rss > 0);
  const verbose = await sb.ok(["status", "-v"]);
  assert.match(verbose.stdout, /^context usage/m);
  assert.match(verbose.stdout, /^largest on disk/m);
  assert.match(verbose.stdout, /^\s+rss\s+[\d.]+ MiB$/m);
});

test("list shows a page of 50 by default and says how many there are in all", async (t) => {
  const sb = await sandbox(t);
  await seed(
    sb,
    Array.from({ length: 55 }, (_, i) => ({ key: `dm:telegram:p${i}`, idleMinutes: i + 1, messages: 1 })),
  );
  const page = await sb.json<ListJson>(["sessions", "list"]);
  assert.equal(page.count, 50);
  assert.equal(page.total, 55);
  assert.equal(page.sessions[0]?.key, "dm:telegram:p0", "newest activity first");
  const human = await sb.ok(["sessions", "list"]);
  assert.match(human.stdout, /50 of 55 sessions/);
  const all = await sb.json<ListJson>(["sessions", "list", "--limit", "1000"]);
  assert.equal(all.count, 55);
});
