import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { readdir, readFile, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { errorLine, sandbox } from "../helpers/cli-run.js";
import { openStore } from "../../src/store/open.js";
import { testSession } from "../helpers/store-sessions.js";
import { FILE_STORE_ONLY } from "../helpers/test-store.js";

interface DoctorJson {
  sessions: number;
  quarantined: number;
  remaining: number;
  problems: Array<{ file: string; problem: string; action: string; fixed?: boolean }>;
}

test("a corrupt session: show says it was moved, status and doctor report it, doctor --fix restores it once repaired", { skip: FILE_STORE_ONLY }, async (t) => {
  const sb = await sandbox(t);
  const id = (await sb.ok(["sessions", "append", "--dm", "telegram:1", "hello"])).stdout.trim();
  await sb.ok(["sessions", "append", "--dm", "telegram:2", "other"]);
  const doc = join(sb.stateDir, "sessions", `${id}.json`);
  const good = await readFile(doc, "utf8");
  await writeFile(doc, good.slice(0, 40));

  // status --verbose reads every document: it names the corrupt one without moving it.
  const verbose = await sb.ok(["status", "--verbose"]);
  assert.match(verbose.stdout, new RegExp(`corrupt documents.*\\n\\s+sessions/${id}\\.json`));
  assert.deepEqual((await sb.json<{ verbose: { corrupt: string[] } }>(["status", "--verbose"])).verbose.corrupt, [`${id}.json`]);
  assert.ok(existsSync(doc), "status moves nothing");

  const shown = await sb.run(["sessions", "show", id]);
  assert.equal(shown.code, 1);
  assert.match(errorLine(shown), new RegExp(`session ${id} is corrupt \\(.+\\) and was moved to sessions/quarantine/${id}\\.json in the state directory; the other sessions are fine`));
  assert.equal((await sb.json<{ quarantined: number }>(["status"])).quarantined, 1);
  assert.match((await sb.ok(["status"])).stdout, /problems\s+1 corrupt session file in sessions\/quarantine\//);

  const found = await sb.run(["doctor", "--json"]);
  assert.equal(found.code, 1, "a problem remains: exit 1");
  const report = JSON.parse(found.stdout) as DoctorJson;
  assert.deepEqual([report.sessions, report.quarantined, report.remaining], [1, 1, 1]);
  assert.match(report.problems[0]?.problem ?? "", /quarantined: is not valid JSON/);
  assert.match(report.problems[0]?.action ?? "", /repair it by hand and run openclaw doctor --fix/);

  // Repaired by hand in quarantine: doctor --fix puts it back and the session reads again.
  await writeFile(join(sb.stateDir, "sessions", "quarantine", `${id}.json`), good);
  const human = await sb.run(["doctor"]);
  assert.match(human.stdout, /problem sessions\/quarantine\/.+: quarantined, and it parses now\n\s+→ openclaw doctor --fix restores it/);
  const fixed = await sb.ok(["doctor", "--fix"]);
  assert.match(fixed.stdout, /fixed\s+sessions\/quarantine\//);
  assert.equal((await sb.json<{ messages: unknown[] }>(["sessions", "show", id])).messages.length, 1);
  assert.equal((await sb.json<{ total: number }>(["sessions", "list"])).total, 2, "the index knows the restored session");
  const clean = await sb.ok(["doctor"]);
  assert.match(clean.stdout, /no problems found$/m);
});

test("compact counts the corrupt files it moved aside; doctor removes leftovers and finds calls without a result", { skip: FILE_STORE_ONLY }, async (t) => {
  const sb = await sandbox(t);
  const id = (await sb.ok(["sessions", "append", "--dm", "telegram:1", "hello"])).stdout.trim();
  await sb.ok(["sessions", "append", "--dm", "telegram:2", "x"]);
  await writeFile(join(sb.stateDir, "sessions", `${id}.json`), "{ not json");
  const compacted = await sb.ok(["sessions", "compact"]);
  assert.match(compacted.stdout, /1 corrupt session file moved to sessions\/quarantine\/ \(openclaw doctor tells more\)/);
  assert.ok(existsSync(join(sb.stateDir, "sessions", "quarantine", `${id}.json`)));

  await sb.ok(["sessions", "append", "--session", "dm:telegram:2", "--role", "assistant", "checking", "--tool-call", "lookup", "{}"]);
  const tmp = join(sb.stateDir, "sessions", `.${id}.4242.cafebabe.tmp`);
  await writeFile(tmp, "partial");
  await utimes(tmp, new Date(Date.now() - 3_600_000), new Date(Date.now() - 3_600_000));
  const before = JSON.parse((await sb.run(["doctor", "--json"])).stdout) as DoctorJson;
  assert.ok(before.problems.some((p) => /1 leftover of interrupted writes/.test(p.problem)));
  assert.ok(before.problems.some((p) => /1 tool call without a result \(call_\w+ lookup\)/.test(p.problem) && /--role tool --call-id/.test(p.action)));
  const after = JSON.parse((await sb.run(["doctor", "--fix", "--json"])).stdout) as DoctorJson;
  assert.ok(after.problems.some((p) => /leftover/.test(p.problem) && p.fixed === true));
  assert.ok(!(await readdir(join(sb.stateDir, "sessions"))).some((n) => n.endsWith(".tmp")));
});

test("doctor --fix moves aside a session whose message file is damaged within its committed length, not only one of the wrong size", { skip: FILE_STORE_ONLY }, async (t) => {
  const sb = await sandbox(t);
  const id = (await sb.ok(["sessions", "append", "--dm", "telegram:1", "hello"])).stdout.trim();
  await sb.ok(["sessions", "append", "--dm", "telegram:2", "other"]);
  const { gen } = (JSON.parse(await readFile(join(sb.stateDir, "sessions", `${id}.json`), "utf8")) as { messageFile: { gen: number } }).messageFile;
  const lines = join(sb.stateDir, "sessions", `${id}.${gen}.jsonl`);
  const text = await readFile(lines, "utf8");
  // The same size: only reading the lines tells.
  await writeFile(lines, `${text.slice(0, -2)}]\n`);

  const found = JSON.parse((await sb.run(["doctor", "--json"])).stdout) as DoctorJson;
  assert.ok(
    found.problems.some((p) => p.file === `sessions/${id}.json` && /corrupt/.test(p.problem)),
    JSON.stringify(found.problems),
  );
  const fixed = JSON.parse((await sb.run(["doctor", "--fix", "--json"])).stdout) as DoctorJson;
  assert.ok(
    fixed.problems.some((p) => p.file === `sessions/${id}.json` && p.fixed === true),
    JSON.stringify(fixed.problems),
  );
  assert.deepEqual((await readdir(join(sb.stateDir, "sessions", "quarantine"))).sort(), [`${id}.json`, `${id}.json.${gen}.jsonl`]);
  assert.equal((await sb.json<{ total: number }>(["sessions", "list"])).total, 1, "the index no longer lists it");
});

test("doctor reads every session of any backend and reports calls without a result", async (t) => {
  const sb = await sandbox(t);
  await sb.ok(["sessions", "append", "--dm", "telegram:1", "hello"]);
  const healthy = await sb.ok(["doctor"]);
  assert.match(healthy.stdout, /checked 1 session/);
  assert.match(healthy.stdout, /no problems found$/m);
  await sb.ok(["sessions", "append", "--session", "dm:telegram:1", "--role", "assistant", "one moment", "--tool-call", "search", '{"q":"x"}']);
  const r = await sb.run(["doctor"]);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /problem session \S+: 1 tool call without a result \(call_\w+ search\)/);
});

test("doctor finds a key with two live sessions; --fix archives the older, keeps the most recently active and says so", async (t) => {
  const sb = await sandbox(t);
  const first = (await sb.ok(["sessions", "append", "--dm", "telegram:43", "hello"])).stdout.trim();
  await sb.ok(["sessions", "append", "--dm", "telegram:44", "someone else"]);
  // The double as an old import made it: a second live session for the key written straight to the store.
  const store = await openStore(sb.storeUri, { warn: () => {} });
  const now = new Date().toISOString();
  const second = testSession({ key: "dm:telegram:43", status: "active", lastActivityAt: now, updatedAt: now });
  try {
    await store.commit({ session: second, expectedRevision: null });
  } finally {
    await store.close();
  }
  const found = await sb.run(["doctor", "--json"]);
  assert.equal(found.code, 1, "a problem remains: exit 1");
  const report = JSON.parse(found.stdout) as DoctorJson;
  const problem = report.problems.find((p) => p.file === "key dm:telegram:43");
  assert.ok(problem, JSON.stringify(report.problems));
  assert.match(problem.problem, new RegExp(`^2 live sessions \\(${second.id}, ${first}\\), where a key has at most one$`));
  assert.match(problem.action, new RegExp(`--fix archives ${first} and keeps ${second.id}`));
  assert.match((await sb.run(["doctor"])).stdout, new RegExp(`problem key dm:telegram:43: 2 live sessions`));

  const fixed = await sb.ok(["doctor", "--fix"]);
  assert.match(fixed.stdout, new RegExp(`fixed\\s+key dm:telegram:43: 2 live sessions .*: archived ${first}, kept ${second.id} \\(the most recently active\\)`));
  const list = (await sb.json<{ sessions: Array<{ id: string; key: string; status: string }> }>(["sessions", "list", "--status", "all"])).sessions.filter((s) => s.key === "dm:telegram:43");
  assert.deepEqual(Object.fromEntries(list.map((s) => [s.id, s.status])), { [first]: "archived", [second.id]: "active" });
  assert.equal((await sb.ok(["sessions", "append", "--dm", "telegram:43", "again"])).stdout.trim(), second.id, "the key's messages go to the kept session");
  assert.match((await sb.ok(["doctor"])).stdout, /no problems found$/m);
});
