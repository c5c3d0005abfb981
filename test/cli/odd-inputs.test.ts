import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { isOpenclawError } from "../../src/errors.js";
import { errorLine, sandbox } from "../helpers/cli-run.js";
import { openTestManager } from "../helpers/manager-open.js";

interface Listed {
  total: number;
  sessions: Array<{ id: string; key: string; channel: string; messageCount: number }>;
}

test("the library refuses a user or system message that is only whitespace, as the CLI does", async (t) => {
  const h = await openTestManager();
  t.after(() => h.cleanup());
  for (const [role, content] of [
    ["user", "   "],
    ["user", "\n\t "],
    ["system", " "],
  ] as const) {
    await assert.rejects(h.manager.record({ inbound: { channel: "telegram", senderId: "1" } }, { role, content }), (err: unknown) => {
      assert.ok(isOpenclawError(err, "INVALID_ARGUMENT"));
      assert.match(err.message, /empty or only whitespace; nothing was recorded/);
      return true;
    });
  }
  assert.equal((await h.manager.list()).total, 0, "nothing was created");
  const sb = await sandbox(t);
  const r = await sb.run(["sessions", "append", "--dm", "telegram:1", "  \n "]);
  assert.equal(r.code, 1);
  assert.match(errorLine(r), /empty or only whitespace/);
});

test("channel names are case-insensitive: Telegram:42 and telegram:42 are one session", async (t) => {
  const sb = await sandbox(t);
  await sb.ok(["sessions", "append", "--dm", "Telegram:42", "first"]);
  await sb.ok(["sessions", "append", "--dm", "telegram:42", "second"]);
  await sb.ok(["sessions", "append", "--group", "SLACK:C1", "--from", "ann", "hello"]);
  const all = await sb.json<Listed>(["sessions", "list"]);
  assert.equal(all.total, 2);
  const dm = all.sessions.find((s) => s.key === "dm:telegram:42");
  assert.equal(dm?.messageCount, 2);
  assert.ok(
    all.sessions.some((s) => s.key === "group:slack:C1"),
    "the group id keeps its case",
  );
  const shown = await sb.json<{ id: string }>(["sessions", "show", "dm:TELEGRAM:42"]);
  assert.equal(shown.id, dm?.id);
  assert.equal((await sb.json<Listed>(["sessions", "list", "--channel", "TeleGram"])).total, 1);
});

test("set: an absent preference is reported as not set; numbers JSON would change are kept as typed", async (t) => {
  const sb = await sandbox(t);
  await sb.ok(["sessions", "append", "--dm", "telegram:1", "hi"]);
  const r = await sb.ok(["sessions", "set", "dm:telegram:1", "--unset-pref", "theme"]);
  assert.match(r.stdout, /: theme was not set$/m);
  const j = await sb.json<{ notSet: string[] }>(["sessions", "set", "dm:telegram:1", "--pref", "a=1", "--unset-pref", "theme"]);
  assert.deepEqual(j.notSet, ["theme"]);
  const both = await sb.ok(["sessions", "set", "dm:telegram:1", "--unset-pref", "a", "--unset-pref", "zzz"]);
  assert.match(both.stdout, /unset a; zzz was not set$/m);

  const set = await sb.json<{ preferences: Record<string, unknown> }>([
    "sessions",
    "set",
    "dm:telegram:1",
    "--pref",
    "big=1234567890123456789012",
    "--pref",
    "price=1.10",
    "--pref",
    "n=42",
    "--pref",
    "ratio=0.5",
    "--pref",
    "huge=1e999",
    "--pref",
    "flag=true",
  ]);
  assert.deepEqual(set.preferences, { big: "1234567890123456789012", price: "1.10", n: 42, ratio: 0.5, huge: "1e999", flag: true });
});

test("a config file named by --config or OPENCLAW_CONFIG_PATH must exist", async (t) => {
  const sb = await sandbox(t);
  const missing = join(sb.home, "nope.json");
  for (const [args, env] of [
    [["--config", missing, "config", "validate"], {}],
    [["--config", missing, "config", "show"], {}],
    [["--config", missing, "sessions", "list"], {}],
    [["config", "validate"], { OPENCLAW_CONFIG_PATH: missing }],
  ] as const) {
    const r = await sb.run(args, { env });
    assert.equal(r.code, 1, `${args.join(" ")}: ${r.stderr}`);
    assert.match(errorLine(r), /nope\.json: no such config file \(named by (--config|OPENCLAW_CONFIG_PATH)\)/);
  }
});

test("a misspelled config key gets a did-you-mean", async (t) => {
  const sb = await sandbox(t);
  await mkdir(sb.stateDir, { recursive: true });
  await writeFile(join(sb.stateDir, "config.json"), JSON.stringify({ sessions: { maxHistoryLenght: 5, Model: "gpt-4o" }, storag: {}, gateway: { colour: "x" } }));
  const r = await sb.ok(["config", "validate"]);
  assert.match(r.stderr, /unknown key sessions\.maxHistoryLenght is ignored; did you mean sessions\.maxHistoryLength\?/);
  assert.match(r.stderr, /unknown key sessions\.Model is ignored; did you mean sessions\.model\?/);
  assert.match(r.stderr, /unknown key storag is ignored; did you mean storage\?/);
  assert.match(r.stderr, /unknown key gateway\.colour is ignored\n/, "no guess when nothing is close");
});
