// Import and copy keep one live session per routing key, as routing, unarchive and fork do.
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import type { ExportEnvelope } from "../../src/session/export.js";
import type { Session } from "../../src/session/types.js";
import { fixtureExport, seed } from "../helpers/cli-fixtures.js";
import { errorLine, sandbox, snapshot, type Sandbox } from "../helpers/cli-run.js";

interface ListJson {
  sessions: Array<{ id: string; key: string; status: string }>;
  total: number;
}

interface ImportJson {
  imported: string[];
  overwritten: string[];
  skipped: string[];
  importedArchived: Array<{ id: string; key: string; live: string }>;
  archivedLive: Array<{ id: string; key: string; replacedBy: string }>;
  count: number;
}

const KEY = "dm:telegram:43";

/** The sessions of `key` by status, sorted by id. */
async function byStatus(sb: Sandbox, key: string): Promise<Record<string, string[]>> {
  const all = (await sb.json<ListJson>(["sessions", "list", "--status", "all"])).sessions.filter((s) => s.key === key);
  const out: Record<string, string[]> = {};
  for (const s of [...all].sort((a, b) => a.id.localeCompare(b.id))) (out[s.status] ??= []).push(s.id);
  return out;
}

/** Exports the key's session to a file, deletes it, and lets a new message start a fresh one: the backup's session now clashes. */
async function backupThenNewSession(sb: Sandbox): Promise<{ file: string; old: string; fresh: string }> {
  const env = await seed(sb, [{ key: KEY, messages: 2 }, { key: "dm:telegram:44" }]);
  const old = env.sessions[0]?.id ?? "";
  const file = join(sb.home, "backup.json");
  await writeFile(file, (await sb.ok(["sessions", "export", "--all"])).stdout);
  await sb.ok(["sessions", "delete", old]);
  const fresh = (await sb.ok(["sessions", "append", "--dm", "telegram:43", "hello again"])).stdout.trim();
  assert.notEqual(fresh, old);
  await sb.ok(["sessions", "delete", env.sessions[1]?.id ?? ""]);
  return { file, old, fresh };
}

test("import refuses a live session whose key already has another live session, naming both and the key, and writes nothing", async (t) => {
  const sb = await sandbox(t);
  const { file, old, fresh } = await backupThenNewSession(sb);
  const before = await snapshot(sb.stateDir);
  const r = await sb.run(["sessions", "import", file]);
  assert.equal(r.code, 1, r.stdout);
  const line = errorLine(r);
  for (const part of [old, fresh, KEY, "--as-archived", "--replace-live", "nothing was written"]) assert.ok(line.includes(part), `${line} names ${part}`);
  assert.deepEqual(await byStatus(sb, KEY), { active: [fresh] });
  assert.equal((await sb.json<ListJson>(["sessions", "list", "--status", "all"])).total, 1, "the other session of the file is not imported either");
  assert.deepEqual(await snapshot(sb.stateDir), before);
});

test("import --as-archived brings the clashing session back archived; the live one keeps the key", async (t) => {
  const sb = await sandbox(t);
  const { file, old, fresh } = await backupThenNewSession(sb);
  const r = await sb.json<ImportJson>(["sessions", "import", file, "--as-archived"]);
  assert.deepEqual(r.importedArchived, [{ id: old, key: KEY, live: fresh }]);
  assert.equal(r.count, 2);
  assert.deepEqual(await byStatus(sb, KEY), { active: [fresh], archived: [old] });
  await sb.ok(["sessions", "append", "--dm", "telegram:43", "still here"]);
  assert.equal((await sb.json<Session>(["sessions", "show", fresh])).messages.length, 2, "the key's messages still go to the live session");
  const human = await sb.ok(["sessions", "import", file, "--as-archived", "--overwrite"]);
  assert.match(human.stdout, new RegExp(`^overwrote ${old} ${KEY} \\(archived: ${fresh} is live for the key\\)$`, "m"));
});

test("import --replace-live archives the key's live session and the imported one takes the key's next messages", async (t) => {
  const sb = await sandbox(t);
  const { file, old, fresh } = await backupThenNewSession(sb);
  const r = await sb.json<ImportJson>(["sessions", "import", file, "--replace-live"]);
  assert.deepEqual([r.imported.includes(old), r.archivedLive], [true, [{ id: fresh, key: KEY, replacedBy: old }]]);
  assert.deepEqual(await byStatus(sb, KEY), { active: [old], archived: [fresh] });
  const before = (await sb.json<Session>(["sessions", "show", old])).messages.length;
  const id = (await sb.ok(["sessions", "append", "--dm", "telegram:43", "where were we?"])).stdout.trim();
  assert.equal(id, old, "routing finds the imported session");
  assert.equal((await sb.json<Session>(["sessions", "show", old])).messages.length, before + 1);
  assert.deepEqual(await byStatus(sb, KEY), { active: [old], archived: [fresh] }, "no third session");
  const both = await sb.run(["sessions", "import", file, "--replace-live", "--as-archived"]);
  assert.equal(both.code, 1);
  assert.match(errorLine(both), /--as-archived and --replace-live/);
});

test("import --skip-existing imports what is missing and leaves existing sessions as they are", async (t) => {
  const sb = await sandbox(t);
  const env = await seed(sb, [{ key: "dm:telegram:1", preferences: { v: 1 } }, { key: "dm:telegram:2" }]);
  const [first, second] = env.sessions;
  assert.ok(first && second);
  await sb.ok(["sessions", "delete", second.id]);
  const changed: ExportEnvelope = { ...env, sessions: [{ ...first, preferences: { v: 2 } }, second] };
  const file = join(sb.home, "changed.json");
  await writeFile(file, JSON.stringify(changed));
  const r = await sb.json<ImportJson>(["sessions", "import", file, "--skip-existing"]);
  assert.deepEqual([r.imported, r.skipped, r.count], [[second.id], [first.id], 1]);
  assert.deepEqual((await sb.json<Session>(["sessions", "show", first.id])).preferences, { v: 1 }, "the existing session is untouched");
  const human = await sb.ok(["sessions", "import", file, "--skip-existing"]);
  assert.match(human.stdout, /imported 0 sessions from .*changed\.json \(2 already there, skipped\)$/m);
  const both = await sb.run(["sessions", "import", file, "--skip-existing", "--overwrite"]);
  assert.equal(both.code, 1);
  assert.match(errorLine(both), /--overwrite and --skip-existing/);
});

test("import FILE REF... restores only the sessions named by id, id prefix or key; an unknown ref writes nothing", async (t) => {
  const sb = await sandbox(t);
  const backup = fixtureExport([{ key: "dm:telegram:1" }, { key: "dm:telegram:2" }, { key: "group:slack:C1" }, { key: "dm:telegram:3" }]);
  const [a, b, c, d] = backup.sessions;
  assert.ok(a && b && c && d);
  const file = join(sb.home, "full.json");
  await writeFile(file, JSON.stringify(backup));
  await seed(sb, [{ key: "dm:telegram:9" }]);
  const before = await snapshot(sb.stateDir);
  const missing = await sb.run(["sessions", "import", file, a.id, "dm:telegram:404"]);
  assert.equal(missing.code, 1);
  assert.match(errorLine(missing), /no session in .*full\.json matches "dm:telegram:404"; nothing was written/);
  assert.deepEqual(await snapshot(sb.stateDir), before);

  const r = await sb.json<ImportJson>(["sessions", "import", file, a.id, c.id.slice(0, 20), "dm:telegram:3"]);
  assert.deepEqual([...r.imported].sort(), [a.id, c.id, d.id].sort());
  const keys = (await sb.json<ListJson>(["sessions", "list", "--status", "all"])).sessions.map((s) => s.key).sort();
  assert.deepEqual(keys, ["dm:telegram:1", "dm:telegram:3", "dm:telegram:9", "group:slack:C1"]);
});

test("store copy refuses a live session whose key has another live session in the target unless --as-archived or --replace-live", async (t) => {
  const sb = await sandbox(t);
  const target = `file:${join(sb.home, "target")}`;
  const env = await seed(sb, [{ key: KEY }, { key: "dm:telegram:44" }]);
  const source = env.sessions[0]?.id ?? "";
  const other = (await sb.ok(["--store", target, "sessions", "append", "--dm", "telegram:43", "only in the target"])).stdout.trim();
  const inTarget = async () => {
    const all = (await sb.json<ListJson>(["--store", target, "sessions", "list", "--status", "all"])).sessions.filter((s) => s.key === KEY);
    return Object.fromEntries(all.map((s) => [s.id, s.status]));
  };
  const refused = await sb.run(["store", "copy", "--from", sb.storeUri, "--to", target]);
  assert.equal(refused.code, 1);
  const line = errorLine(refused);
  for (const part of [source, other, KEY, "--as-archived", "--replace-live", "nothing was written"]) assert.ok(line.includes(part), `${line} names ${part}`);
  assert.deepEqual(await inTarget(), { [other]: "active" });
  assert.equal((await sb.json<ListJson>(["--store", target, "sessions", "list", "--status", "all"])).total, 1);

  const archived = await sb.json<{ created: number; importedArchived: Array<{ id: string; key: string; live: string }>; verified: { mismatched: string[] } }>([
    "store",
    "copy",
    "--from",
    sb.storeUri,
    "--to",
    target,
    "--as-archived",
  ]);
  assert.deepEqual([archived.created, archived.importedArchived, archived.verified.mismatched], [2, [{ id: source, key: KEY, live: other }], []]);
  assert.deepEqual(await inTarget(), { [other]: "active", [source]: "archived" });

  const replaced = await sb.json<{ archivedLive: Array<{ id: string; key: string; replacedBy: string }>; verified: { mismatched: string[] } }>(["store", "copy", "--from", sb.storeUri, "--to", target, "--replace-live"]);
  assert.deepEqual([replaced.archivedLive, replaced.verified.mismatched], [[{ id: other, key: KEY, replacedBy: source }], []]);
  assert.deepEqual(await inTarget(), { [other]: "archived", [source]: "active" });
  const id = (await sb.ok(["--store", target, "sessions", "append", "--dm", "telegram:43", "next"])).stdout.trim();
  assert.equal(id, source, "the copied session takes the key's next message");
});

test("store copy --skip-existing leaves sessions the target already has", async (t) => {
  const sb = await sandbox(t);
  const target = `file:${join(sb.home, "target")}`;
  await seed(sb, [{ key: "dm:telegram:1" }]);
  await sb.ok(["store", "copy", "--from", sb.storeUri, "--to", target]);
  await sb.ok(["sessions", "append", "--dm", "telegram:1", "one more"]);
  const r = await sb.json<{ updated: number; skipped: number; unchanged: number }>(["store", "copy", "--from", sb.storeUri, "--to", target, "--skip-existing"]);
  assert.deepEqual([r.updated, r.skipped, r.unchanged], [0, 1, 0]);
  assert.equal((await sb.json<Session>(["--store", target, "sessions", "show", "dm:telegram:1"])).messages.length, 2, "the target's copy is left as it was");
});
