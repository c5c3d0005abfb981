import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import type { RescopeReport } from "../../src/manager/rescope.js";
import { errorLine, sandbox, type Sandbox } from "../helpers/cli-run.js";

async function configure(sb: Sandbox, sessions: Record<string, unknown>): Promise<void> {
  await mkdir(sb.stateDir, { recursive: true });
  await writeFile(join(sb.stateDir, "config.json"), JSON.stringify({ sessions }));
}

test("append --account keys DMs per bot account under per-account-channel-peer", async (t) => {
  const sb = await sandbox(t);
  await configure(sb, { dmScope: "per-account-channel-peer" });
  const a = await sb.json<{ key: string }>(["sessions", "append", "--dm", "telegram:42", "--account", "support", "hi"]);
  const b = await sb.json<{ key: string }>(["sessions", "append", "--dm", "telegram:42", "hi"]);
  assert.equal(a.key, "dm:telegram:support:42");
  assert.equal(b.key, "dm:telegram:default:42");
  const shown = await sb.json<{ origin?: { account?: string } }>(["sessions", "show", "dm:telegram:support:42"]);
  assert.equal(shown.origin?.account, "support");
  const r = await sb.run(["sessions", "append", "--isolated", "x", "--account", "support", "hi"]);
  assert.match(errorLine(r), /--account only applies with --dm or --group/);
});

test("status and doctor report keys the scope no longer makes; rescope --dry-run shows, then rescope applies", async (t) => {
  const sb = await sandbox(t);
  await sb.ok(["sessions", "append", "--dm", "telegram:alice", "on telegram"]);
  await sb.ok(["sessions", "append", "--dm", "discord:alice", "on discord"]);
  await sb.ok(["sessions", "append", "--dm", "telegram:bob", "bob"]);
  assert.match((await sb.ok(["status"])).stdout, /dm scope\s+per-channel-peer\n/);
  await configure(sb, { dmScope: "per-peer" });

  const status = await sb.ok(["status"]);
  assert.match(status.stdout, /dm scope\s+per-peer \(3 live sessions keyed otherwise; openclaw sessions rescope --dry-run/);
  const doctor = await sb.run(["doctor", "--json"]);
  assert.equal(doctor.code, 1, "a live session no message reaches is a problem until rescoped");
  const problems = (JSON.parse(doctor.stdout) as { problems: Array<{ file: string; action: string }> }).problems;
  assert.ok(problems.some((p) => p.file === 'sessions.dmScope "per-peer"' && p.action.includes("sessions rescope --dry-run")));

  const dry = await sb.ok(["sessions", "rescope", "--dry-run"]);
  assert.match(dry.stdout, /dm:discord:alice\s+dm:peer:alice\s+move/);
  assert.match(dry.stdout, /dm:telegram:alice\s+dm:peer:alice\s+archive: merged, \S+ keeps the key/);
  assert.match(dry.stdout, /2 sessions to move, 1 session to archive \(scope "per-peer"\); run without --dry-run to apply/);
  const still = await sb.json<{ dmScope: { mismatched: unknown[] } }>(["status"]);
  assert.equal(still.dmScope.mismatched.length, 3, "a dry run changes nothing");

  const applied = await sb.json<RescopeReport>(["sessions", "rescope"]);
  assert.equal(applied.applied, true);
  assert.deepEqual(applied.steps.map((s) => s.action).sort(), ["archive", "move", "move"]);
  const next = await sb.json<{ key: string; messageCount: number }>(["sessions", "append", "--dm", "telegram:alice", "again"]);
  assert.equal(next.key, "dm:peer:alice");
  assert.equal(next.messageCount, 2, "the moved session takes the next message");
  assert.equal((await sb.run(["doctor"])).code, 0);
  assert.match((await sb.ok(["sessions", "rescope"])).stdout, /nothing to do/);
});

test("config validate: an unknown scope and an identity linked twice are one clear line each", async (t) => {
  const sb = await sandbox(t);
  await configure(sb, { dmScope: "per-user" });
  assert.equal(errorLine(await sb.run(["config", "validate"])), 'error: config.json: sessions.dmScope: expected one of "per-channel-peer", "main", "per-peer", "per-account-channel-peer", got "per-user"');
  await configure(sb, { identityLinks: { alice: ["telegram:42"], bob: ["telegram:42"] } });
  assert.equal(errorLine(await sb.run(["config", "validate"])), 'error: config.json: sessions.identityLinks.bob.0: telegram:42 is already linked to alice: an identity belongs to one person, got "telegram:42"');
  await configure(sb, { dmScope: "main" });
  assert.match((await sb.ok(["config", "show"])).stdout, /sessions\.dmScope\s+"main"\s+file/);
});
