import assert from "node:assert/strict";
import { mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { SessionManager } from "../../src/manager/manager.js";
import type { PruneReport } from "../../src/manager/retention.js";
import { sandbox, type Sandbox } from "../helpers/cli-run.js";

const DAY = 86_400_000;

/** Sessions made in the past through the library: two archived 30 days ago, one expired 20 days ago, one live now. */
async function seedAged(sb: Sandbox): Promise<Record<string, string>> {
  let now = new Date(Date.now() - 30 * DAY);
  const m = await SessionManager.open({ stateDir: sb.stateDir, storeUri: sb.storeUri, now: () => now, warn: () => undefined });
  try {
    const ids: Record<string, string> = {};
    for (const user of ["old1", "old2"]) {
      ids[user] = (await m.receive({ channel: "telegram", senderId: user }, `hi from ${user}`)).id;
      await m.archive(ids[user] as string);
      now = new Date(now.getTime() + 60_000);
    }
    now = new Date(Date.now() - 20 * DAY);
    ids.gone = (await m.receive({ channel: "telegram", senderId: "gone" }, "expires")).id;
    now = new Date();
    ids.live = (await m.receive({ channel: "telegram", senderId: "live" }, "still here")).id;
    return ids;
  } finally {
    await m.close();
  }
}

test("sessions prune: dry run, then deletes oldest first with a backup; config rules apply; a live session stays", async (t) => {
  const sb = await sandbox(t);
  await mkdir(sb.stateDir, { recursive: true });
  const ids = await seedAged(sb);

  const off = await sb.ok(["sessions", "prune"]);
  assert.match(off.stdout, /retention is off: set sessions\.maintenance/);

  const dry = await sb.json<PruneReport & { count: number }>(["sessions", "prune", "--archived-after", "7d", "--dry-run"]);
  assert.equal(dry.dryRun, true);
  assert.deepEqual(
    dry.deleted.map((x) => x.id),
    [ids.old1, ids.old2],
  );
  assert.equal((await sb.json<{ total: number }>(["sessions", "list", "--status", "all"])).total, 4);
  const dryText = await sb.ok(["sessions", "prune", "--archived-after", "7d", "--dry-run"]);
  assert.match(dryText.stdout, /would delete \S+ dm:telegram:old1 .*archived longer than sessions\.maintenance\.deleteArchivedAfter/);

  const backup = join(sb.home, "backup.json");
  const done = await sb.ok(["sessions", "prune", "--archived-after", "7d", "--backup", backup]);
  const lines = done.stdout.split("\n").filter((l) => /^deleted [0-9a-f]{8}-/.test(l));
  assert.equal(lines.length, 2);
  assert.match(lines[0] ?? "", /dm:telegram:old1/);
  assert.match(done.stdout, /deleted 2 sessions of 4; exported first to /);
  const saved = JSON.parse(await readFile(backup, "utf8")) as { sessions: Array<{ id: string }> };
  assert.deepEqual(saved.sessions.map((s) => s.id).sort(), [ids.old1, ids.old2].sort());
  assert.equal((await stat(backup)).mode & 0o777, 0o600);

  // The config's rules, with no flag: the expired session goes, the live one never does.
  await writeFile(join(sb.stateDir, "config.json"), JSON.stringify({ sessions: { maintenance: { deleteExpiredAfter: "7d", maxSessions: 1 } } }));
  const byConfig = await sb.json<PruneReport>(["sessions", "prune"]);
  assert.deepEqual(
    byConfig.deleted.map((x) => [x.id, x.reason]),
    [[ids.gone, "deleteExpiredAfter"]],
  );
  assert.equal(byConfig.overMax, 0);
  const list = await sb.json<{ sessions: Array<{ id: string }> }>(["sessions", "list", "--status", "all"]);
  assert.deepEqual(
    list.sessions.map((s) => s.id),
    [ids.live],
  );

  const bad = await sb.run(["sessions", "prune", "--archived-after", "soon"]);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /^error: .*expected a duration/m);
  const badConfig = await sb.run(["config", "validate"], { env: {} });
  assert.equal(badConfig.code, 0, badConfig.stderr);
});
