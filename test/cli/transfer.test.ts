import assert from "node:assert/strict";
import { mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import type { Session } from "../../src/session/types.js";
import type { ExportEnvelope } from "../../src/session/export.js";
import { fixtureExport, seed } from "../helpers/cli-fixtures.js";
import { errorLine, sandbox, snapshot } from "../helpers/cli-run.js";

interface ListJson {
  sessions: Array<{ id: string; key: string; status: string }>;
  total: number;
}

function withoutExportedAt(text: string): unknown {
  const { exportedAt: _ignored, ...rest } = JSON.parse(text) as ExportEnvelope;
  return rest;
}

test("export writes only the JSON document to stdout, so `> backup.json` works", async (t) => {
  const sb = await sandbox(t);
  const env = await seed(sb, [{ key: "dm:telegram:42", pruned: 2, summary: "earlier" }, { key: "dm:telegram:43" }]);
  const id = env.sessions[0]?.id ?? "";
  const r = await sb.ok(["sessions", "export", id]);
  assert.equal(r.stderr, "");
  const doc = JSON.parse(r.stdout) as ExportEnvelope;
  assert.equal(doc.format, "openclaw-sessions-export");
  assert.equal(doc.version, 1);
  assert.match(doc.exportedAt, /^\d{4}-\d\d-\d\dT/);
  assert.deepEqual(doc.sessions, [env.sessions[0]], "the export holds everything, pruned history included");
  const all = JSON.parse((await sb.ok(["sessions", "export", "--all"])).stdout) as ExportEnvelope;
  assert.equal(all.sessions.length, 2);
});

test("export --output writes the file atomically with mode 0600", async (t) => {
  const sb = await sandbox(t);
  await seed(sb, [{ key: "dm:telegram:42" }]);
  const out = join(sb.home, "backups");
  await mkdir(out);
  const file = join(out, "backup.json");
  const r = await sb.ok(["sessions", "export", "--all", "--output", file]);
  assert.equal(r.stdout, `exported 1 session to ${file}\n`);
  assert.equal((await stat(file)).mode & 0o777, 0o600);
  assert.deepEqual(await readdir(out), ["backup.json"], "no temp file left behind");
  assert.equal((JSON.parse(await readFile(file, "utf8")) as ExportEnvelope).sessions.length, 1);
  const bad = await sb.run(["sessions", "export", "--all", "--output", join(sb.home, "missing-dir", "b.json")]);
  assert.equal(bad.code, 1);
  assert.match(errorLine(bad), /^error: cannot write .*b\.json: no such file or directory$/);
});

test("export → delete → import → export is identical apart from exportedAt", async (t) => {
  const sb = await sandbox(t);
  await seed(sb, [
    { key: "dm:telegram:42", messages: 5, pruned: 4, summary: "order #1000", preferences: { language: "fr" }, systemPrompt: "Be brief." },
    { key: "group:slack:C1", messages: 3 },
    { key: "isolated:research:abc123", status: "archived" },
  ]);
  const file = join(sb.home, "backup.json");
  await writeFile(file, (await sb.ok(["sessions", "export", "--all"])).stdout);
  const first = await readFile(file, "utf8");
  const ids = (JSON.parse(first) as ExportEnvelope).sessions.map((s) => s.id);
  await sb.ok(["sessions", "delete", ...ids]);
  assert.equal((await sb.json<ListJson>(["sessions", "list", "--status", "all"])).total, 0);
  const imported = await sb.json<{ imported: string[]; overwritten: string[]; count: number }>(["sessions", "import", file]);
  assert.deepEqual([...imported.imported].sort(), [...ids].sort());
  assert.equal(imported.count, 3);
  const second = (await sb.ok(["sessions", "export", "--all"])).stdout;
  assert.deepEqual(withoutExportedAt(second), withoutExportedAt(first));
});

test("import of a malformed, truncated, empty or wrong-version file fails clearly and writes nothing", async (t) => {
  const sb = await sandbox(t);
  await seed(sb, [{ key: "dm:telegram:42" }]);
  const valid = JSON.stringify(fixtureExport([{ key: "dm:telegram:77" }]), null, 2);
  const bad = fixtureExport([{ key: "dm:telegram:78" }]);
  const badId = { ...bad, sessions: bad.sessions.map((s) => ({ ...s, id: "../../etc/passwd" })) };
  const cases: Array<[string, string, RegExp]> = [
    ["garbage.json", "hello, world", /: cannot import: it is not valid JSON$/],
    ["truncated.json", valid.slice(0, Math.floor(valid.length / 2)), /: cannot import: the file is truncated$/],
    ["empty.json", "", /: cannot import: the file is empty$/],
    ["v2.json", JSON.stringify({ ...fixtureExport([]), version: 2 }), /: cannot import: export version 2 is not supported/],
    ["other.json", JSON.stringify({ format: "something-else", version: 1 }), /: cannot import: "format" is "something-else"/],
    ["bad-id.json", JSON.stringify(badId), /: cannot import: sessions\[0\]\.id "\.\.\/\.\.\/etc\/passwd" is not a valid session id$/],
  ];
  for (const [name, text] of cases) await writeFile(join(sb.home, name), text);
  const before = await snapshot(sb.stateDir);
  for (const [name, , expected] of cases) {
    const r = await sb.run(["sessions", "import", join(sb.home, name)]);
    assert.equal(r.code, 1, name);
    assert.match(errorLine(r), expected, name);
    assert.equal(r.stdout, "");
  }
  const missing = await sb.run(["sessions", "import", join(sb.home, "nope.json")]);
  assert.equal(missing.code, 1);
  assert.match(errorLine(missing), /^error: cannot read .*nope\.json: no such file or directory$/);
  assert.deepEqual(await snapshot(sb.stateDir), before);
});

test("import refuses an existing id unless --overwrite; reads stdin with -", async (t) => {
  const sb = await sandbox(t);
  const env = await seed(sb, [{ key: "dm:telegram:42", preferences: { v: 1 } }]);
  const original = env.sessions[0];
  assert.ok(original);
  const changed = { ...env, sessions: [{ ...original, preferences: { v: 2 } }] };
  const before = await snapshot(sb.stateDir);
  const refused = await sb.run(["sessions", "import", "-"], { input: JSON.stringify(changed) });
  assert.equal(refused.code, 1);
  assert.match(errorLine(refused), /already exist .*use --overwrite to replace them or --skip-existing to leave them\. Nothing was written$/);
  assert.deepEqual(await snapshot(sb.stateDir), before);

  const ok = await sb.json<{ imported: string[]; overwritten: string[] }>(["sessions", "import", "-", "--overwrite"], { input: JSON.stringify(changed) });
  assert.deepEqual(ok, { imported: [], overwritten: [original.id], skipped: [], importedArchived: [], archivedLive: [], count: 1 });
  assert.deepEqual((await sb.json<Session>(["sessions", "show", original.id])).preferences, { v: 2 });
  const fresh = fixtureExport([{ key: "dm:telegram:43" }]);
  const human = await sb.ok(["sessions", "import", "-"], { input: JSON.stringify(fresh) });
  assert.match(human.stdout, /^imported \S+ dm:telegram:43\nimported 1 session from stdin\n$/);
});

test("delete removes named sessions; an unknown ref among them deletes nothing", async (t) => {
  const sb = await sandbox(t);
  const env = await seed(sb, [{ key: "dm:telegram:1" }, { key: "dm:telegram:2" }, { key: "dm:telegram:3" }]);
  const refused = await sb.run(["sessions", "delete", "dm:telegram:1", "dm:telegram:404"]);
  assert.equal(refused.code, 1);
  assert.equal(refused.stderr, 'error: no session matches "dm:telegram:404"\n');
  assert.equal((await sb.json<ListJson>(["sessions", "list"])).total, 3);

  const r = await sb.json<{ dryRun: boolean; deleted: Array<{ id: string; key: string }>; count: number }>(["sessions", "delete", "dm:telegram:1", env.sessions[1]?.id ?? ""]);
  assert.equal(r.dryRun, false);
  assert.deepEqual(
    r.deleted.map((d) => d.key),
    ["dm:telegram:1", "dm:telegram:2"],
  );
  assert.deepEqual(
    (await sb.json<ListJson>(["sessions", "list"])).sessions.map((s) => s.key),
    ["dm:telegram:3"],
  );
  const gone = await sb.run(["sessions", "show", "dm:telegram:1"]);
  assert.equal(gone.stderr, 'error: no session matches "dm:telegram:1"\n');
});

test("bulk delete by status and age, with --dry-run", async (t) => {
  const sb = await sandbox(t);
  await seed(sb, [
    { key: "dm:telegram:1", idleMinutes: 5 },
    { key: "dm:telegram:2", idleMinutes: 2 * 24 * 60 },
    { key: "dm:telegram:3", idleMinutes: 10 * 24 * 60 },
    { key: "dm:telegram:4", status: "archived", idleMinutes: 60 },
  ]);
  const dry = await sb.json<{ dryRun: boolean; deleted: Array<{ key: string }>; count: number }>(["sessions", "delete", "--status", "expired", "--older-than", "7d", "--dry-run"]);
  assert.deepEqual([dry.dryRun, dry.deleted.map((d) => d.key), dry.count], [true, ["dm:telegram:3"], 1]);
  assert.equal((await sb.json<ListJson>(["sessions", "list", "--status", "all"])).total, 4, "a dry run deletes nothing");
  const human = await sb.ok(["sessions", "delete", "--status", "expired", "--older-than", "7d"]);
  assert.match(human.stdout, /^deleted \S+ dm:telegram:3 \(expired, last activity 10 d ago\)\ndeleted 1 session\n$/);
  const archived = await sb.json<{ count: number }>(["sessions", "delete", "--status", "archived"]);
  assert.equal(archived.count, 1);
  assert.deepEqual(
    (await sb.json<ListJson>(["sessions", "list", "--status", "all"])).sessions.map((s) => s.key),
    ["dm:telegram:1", "dm:telegram:2"],
  );
});

test("compact expires, archives and folds; --dry-run changes nothing; reports bytes before → after", async (t) => {
  const sb = await sandbox(t);
  await mkdir(sb.stateDir, { recursive: true });
  await writeFile(join(sb.stateDir, "config.json"), JSON.stringify({ sessions: { maxHistoryLength: 10 } }));
  await seed(sb, [{ key: "dm:telegram:long", messages: 16 }, { key: "dm:telegram:stale", idleMinutes: 3 * 24 * 60 }, { key: "dm:telegram:old", idleMinutes: 10 * 24 * 60 }, { key: "dm:telegram:fine" }]);
  const exportAll = async () => withoutExportedAt((await sb.ok(["sessions", "export", "--all"])).stdout);
  const before = await exportAll();
  type Report = { dryRun: boolean; sessions: number; touched: number; bytesBefore: number; bytesAfter: number; actions: Array<{ key: string; expired: boolean; archived: boolean; folded: number }> };
  const dry = await sb.json<Report>(["sessions", "compact", "--dry-run"]);
  assert.equal(dry.dryRun, true);
  assert.equal(dry.sessions, 4);
  const byKey = new Map(dry.actions.map((a) => [a.key, a]));
  assert.ok((byKey.get("dm:telegram:long")?.folded ?? 0) > 0);
  assert.deepEqual([byKey.get("dm:telegram:stale")?.expired, byKey.get("dm:telegram:stale")?.archived], [true, false]);
  assert.equal(byKey.get("dm:telegram:old")?.archived, true);
  assert.equal(byKey.has("dm:telegram:fine"), false);
  assert.deepEqual(await exportAll(), before, "a dry run changes nothing");

  const human = await sb.ok(["sessions", "compact"]);
  assert.match(human.stdout, /^\S+ dm:telegram:old: archive$/m, "a session long expired is not said to be marked expired");
  assert.match(human.stdout, /^\S+ dm:telegram:stale: mark expired$/m);
  assert.match(human.stdout, /^compacted 4 sessions; 3 sessions changed \(2 expired, 1 archived, \d+ messages folded\); [\d.]+ (B|KiB) → [\d.]+ (B|KiB); /m);
  const long = await sb.json<Session>(["sessions", "show", "dm:telegram:long"]);
  assert.ok(long.messages.length <= 10, `history folded to ${long.messages.length}`);
  assert.notEqual(long.summary, null);
  assert.deepEqual(
    (await sb.json<ListJson>(["sessions", "list", "--status", "archived"])).sessions.map((s) => s.key),
    ["dm:telegram:old"],
  );
  const again = await sb.json<Report>(["sessions", "compact", "dm:telegram:fine"]);
  assert.equal(again.sessions, 1);
  assert.equal(again.touched, 0);
  assert.ok(again.bytesBefore > 0 && again.bytesAfter > 0);
});
