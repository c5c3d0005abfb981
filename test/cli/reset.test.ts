import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { seed } from "../helpers/cli-fixtures.js";
import { errorLine, sandbox, type Sandbox } from "../helpers/cli-run.js";

async function withConfig(sb: Sandbox, config: unknown): Promise<void> {
  await mkdir(sb.stateDir, { recursive: true });
  await writeFile(join(sb.stateDir, "config.json"), JSON.stringify(config));
}

test("a daily reset is applied when the next message routes; show says when each session resets", async (t) => {
  const sb = await sandbox(t);
  // Seeded sessions started 65 minutes ago: the last full hour (UTC) lies between their start and now.
  const hour = new Date().getUTCHours();
  await withConfig(sb, {
    sessions: {
      reset: { mode: "daily", atHour: hour, timezone: "UTC" },
      resetByChannel: { signal: { mode: "idle", idleMinutes: 120 } },
    },
  });
  const [old, signal] = (await seed(sb, [{ key: "dm:telegram:42", preferences: { tone: "dry" } }, { key: "dm:signal:7" }])).sessions;
  assert.ok(old !== undefined && signal !== undefined);

  const shownSignal = await sb.ok(["sessions", "show", "dm:signal:7"]);
  const at = new Date(Date.parse(signal.lastActivityAt) + 120 * 60_000).toISOString().slice(0, 16).replace("T", " ");
  assert.match(shownSignal.stdout, new RegExp(`resets\\s+${at} \\(in .*\\) \\(after 2 h idle\\)`));

  // Past its daily reset: shown as expired before any message, then replaced by the next one.
  const shownOld = await sb.ok(["sessions", "show", old.id]);
  assert.match(shownOld.stdout, /status\s+expired/);
  assert.match(shownOld.stdout, /resets\s+no \(not live\)/);
  const next = await sb.run(["sessions", "append", "--dm", "telegram:42", "good morning", "--json"]);
  assert.equal(next.code, 0, next.stderr);
  const r = JSON.parse(next.stdout) as { id: string; started: { reason: string; previousId: string; carriedOver: boolean } };
  assert.notEqual(r.id, old.id);
  assert.deepEqual(r.started, { reason: "previous session reset", previousId: old.id, carriedOver: true });
  assert.match(next.stderr, /started a new session for dm:telegram:42: the previous session reset/);
  const fresh = await sb.json<{ preferences: unknown }>(["sessions", "show", r.id]);
  assert.deepEqual(fresh.preferences, { tone: "dry" });
  const nextReset = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000 + 86_400_000).toISOString().slice(0, 16).replace("T", " ");
  assert.match((await sb.ok(["sessions", "show", r.id])).stdout, new RegExp(`resets\\s+${nextReset} \\(in .*\\) \\(daily at ${String(hour).padStart(2, "0")}:00 UTC\\)`), "the new session resets at the next daily hour");
});

test("config validate names a wrong time zone and an unknown mode", async (t) => {
  const sb = await sandbox(t);
  await withConfig(sb, { sessions: { reset: { mode: "daily", timezone: "Europe/Atlantis" } } });
  const tz = await sb.run(["config", "validate"]);
  assert.equal(tz.code, 1);
  assert.equal(errorLine(tz), 'error: config.json: sessions.reset.timezone: unknown time zone "Europe/Atlantis": expected an IANA time zone such as Europe/Berlin or America/New_York, got "Europe/Atlantis"');
  await withConfig(sb, { sessions: { resetByKind: { thread: { mode: "hourly" } } } });
  const mode = await sb.run(["config", "validate"]);
  assert.equal(mode.code, 1);
  assert.equal(errorLine(mode), 'error: config.json: sessions.resetByKind.thread.mode: expected "daily", "idle" or "never", got "hourly"');
  await withConfig(sb, { sessions: { reset: { mode: "daily", atHour: 5, timezone: "Asia/Tokyo" }, commands: { compact: false } } });
  const shown = await sb.json<{ config: { sessions: { reset: unknown; commands: { compact: boolean } } } }>(["config", "show"]);
  assert.deepEqual(shown.config.sessions.reset, { mode: "daily", atHour: 5, timezone: "Asia/Tokyo" });
  assert.equal(shown.config.sessions.commands.compact, false);
});
