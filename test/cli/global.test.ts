import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import type { Command } from "commander";
import { buildProgram } from "../../src/cli/_program.js";
import { errorLine, runCli, sandbox } from "../helpers/cli-run.js";
import { fixtureExport } from "../helpers/cli-fixtures.js";

interface StatusJson {
  stateDir: string;
  stateDirSource: string;
  configPath: string;
  configPathSource: string;
  total: number;
}

interface ConfigShowJson {
  stateDir: { path: string; source: string };
  configPath: { path: string; source: string; exists: boolean };
  config: { sessions: { maxHistoryLength: number; model: string } };
  sources: Record<string, string>;
  warnings: string[];
}

test("--version prints the package version", async (t) => {
  const sb = await sandbox(t);
  const pkg = JSON.parse(await readFile(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
  const r = await sb.ok(["--version"]);
  assert.equal(r.stdout.trim(), pkg.version);
});

test("--help works on every command, exits 0 and shows examples", async (t) => {
  const sb = await sandbox(t);
  // Every command in the tree, so a new command cannot ship without help and examples.
  const commands: string[][] = [];
  const walk = (cmd: Command, path: string[]): void => {
    commands.push(path);
    for (const sub of cmd.commands) walk(sub, [...path, sub.name()]);
  };
  walk(buildProgram(), []);
  assert.ok(commands.length >= 20, `only ${commands.length} commands found`);
  for (const c of commands) {
    const r = await sb.run([...c, "--help"]);
    assert.equal(r.code, 0, `${c.join(" ")} --help: ${r.stderr}`);
    assert.match(r.stdout, /^Usage: openclaw/, c.join(" "));
    assert.match(r.stdout, /\nExamples:\n {2}openclaw /, `${c.join(" ") || "openclaw"} --help has no examples`);
  }
});

test("usage errors exit 2 with one error line and touch nothing", async (t) => {
  const sb = await sandbox(t);
  const cases: Array<[string[], RegExp]> = [
    [["sessions", "list", "--bogus"], /unknown option '--bogus'/],
    [["sessions", "show"], /missing required argument 'ref'/],
    [["sessions", "list", "--status", "nope"], /Allowed choices are created, active, expired, archived, all/],
    [["sessions", "list", "--limit", "0"], /expected an integer ≥ 1/],
    [["sessions", "lst"], /unknown command 'lst'/],
    [["sessions", "list", "extra"], /too many arguments/],
    [["sessions", "delete"], /needs session references or --status/],
    [["sessions", "delete", "dm:telegram:1", "--status", "expired"], /either session references or --status/],
    [["sessions", "delete", "--older-than", "7d"], /--older-than only applies with --status/],
    [["sessions", "delete", "--status", "expired", "--older-than", "soon"], /expected a duration/],
    [["sessions", "delete", "--status", "active"], /Allowed choices are expired, archived/],
    [["sessions", "export"], /needs session references or --all/],
    [["sessions", "append", "hello"], /no target given/],
    [["sessions", "append", "--dm", "telegram:1", "--isolated", "x", "hello"], /--dm and --isolated given together/],
    [["sessions", "append", "--group", "slack:C1", "hello"], /--group needs --from/],
    [["sessions", "append", "--dm", "telegram:1", "--from", "bob", "hello"], /--from only applies/],
    [["sessions", "append", "--dm", "telegram", "hello"], /expected CHANNEL:USER/],
    [["sessions", "append", "--dm", "telegram:1", "--role", "tool", "hello"], /--role tool needs --call-id/],
    [["sessions", "append", "--dm", "telegram:1", "--role", "robot", "hello"], /Allowed choices are user, assistant, system, tool/],
    [["sessions", "set", "dm:telegram:1"], /nothing to change/],
    [["sessions", "set", "dm:telegram:1", "--pref", "novalue"], /--pref expects KEY=VALUE/],
    [["sessions", "set", "dm:telegram:1", "--pref", "a=1", "--unset-pref", "a"], /both set and unset/],
    [["status", "--bogus"], /unknown option/],
    [["config", "nope"], /unknown command 'nope'/],
  ];
  for (const [args, expected] of cases) {
    const r = await sb.run(args);
    assert.equal(r.code, 2, `${args.join(" ")}: exit ${r.code}, stderr ${r.stderr}`);
    assert.match(errorLine(r), expected, args.join(" "));
    assert.equal(r.stdout, "", args.join(" "));
  }
  assert.equal(existsSync(sb.stateDir), false, "a usage error must not create the state directory");
});

test("a command group without a subcommand prints its help and exits 2", async (t) => {
  const sb = await sandbox(t);
  const r = await sb.run(["sessions"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /Usage: openclaw sessions/);
});

test("state dir: --state-dir beats OPENCLAW_STATE_DIR beats ~/.openclaw", async (t) => {
  const sb = await sandbox(t);
  const envDir = join(sb.home, "from-env");
  const flagDir = join(sb.home, "from-flag");
  const status = async (args: string[], env: Record<string, string>) => {
    const r = await runCli([...args, "status", "--json"], sb.home, { env });
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as StatusJson;
  };
  const byDefault = await status([], {});
  assert.equal(byDefault.stateDir, join(sb.home, ".openclaw"));
  assert.equal(byDefault.stateDirSource, "default");
  const byEnv = await status([], { OPENCLAW_STATE_DIR: envDir });
  assert.equal(byEnv.stateDir, envDir);
  assert.equal(byEnv.stateDirSource, "env");
  const byFlag = await status(["--state-dir", flagDir], { OPENCLAW_STATE_DIR: envDir });
  assert.equal(byFlag.stateDir, flagDir);
  assert.equal(byFlag.stateDirSource, "flag");

  // The data really lands where the winner points.
  const file = join(sb.home, "one.json");
  await writeFile(file, JSON.stringify(fixtureExport([{ key: "dm:telegram:42" }])));
  assert.equal((await runCli(["sessions", "import", file], sb.home, { env: { OPENCLAW_STATE_DIR: envDir } })).code, 0);
  const list = async (args: string[], env: Record<string, string>) => (JSON.parse((await runCli([...args, "sessions", "list", "--json"], sb.home, { env })).stdout) as { total: number }).total;
  assert.equal(await list([], { OPENCLAW_STATE_DIR: envDir }), 1);
  assert.equal(await list(["--state-dir", flagDir], { OPENCLAW_STATE_DIR: envDir }), 0);
  assert.equal(await list([], {}), 0);
});

test("config file: --config beats OPENCLAW_CONFIG_PATH beats <state dir>/config.json", async (t) => {
  const sb = await sandbox(t);
  await mkdir(sb.stateDir, { recursive: true });
  const inState = join(sb.stateDir, "config.json");
  const fromEnv = join(sb.home, "env.json");
  const fromFlag = join(sb.home, "flag.json");
  await writeFile(inState, JSON.stringify({ sessions: { maxHistoryLength: 11 } }));
  await writeFile(fromEnv, JSON.stringify({ sessions: { maxHistoryLength: 22 } }));
  await writeFile(fromFlag, JSON.stringify({ sessions: { maxHistoryLength: 33 } }));
  const show = async (args: string[], env: Record<string, string> = {}) => {
    const r = await sb.run([...args, "config", "show", "--json"], { env });
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as ConfigShowJson;
  };
  const plain = await show([]);
  assert.equal(plain.config.sessions.maxHistoryLength, 11);
  assert.deepEqual(plain.configPath, { path: inState, source: "default", exists: true });
  const env = await show([], { OPENCLAW_CONFIG_PATH: fromEnv });
  assert.equal(env.config.sessions.maxHistoryLength, 22);
  assert.equal(env.configPath.source, "env");
  const flag = await show(["--config", fromFlag], { OPENCLAW_CONFIG_PATH: fromEnv });
  assert.equal(flag.config.sessions.maxHistoryLength, 33);
  assert.equal(flag.configPath.source, "flag");
  assert.equal(flag.sources["sessions.maxHistoryLength"], "file");
  assert.equal(flag.sources["sessions.model"], "default");
  assert.equal(flag.config.sessions.model, "gpt-4o");
});

test("config show prints every effective value with its source", async (t) => {
  const sb = await sandbox(t);
  await mkdir(sb.stateDir, { recursive: true });
  await writeFile(join(sb.stateDir, "config.json"), JSON.stringify({ sessions: { model: "claude-sonnet-4", tools: { group: { deny: ["shell.*"] } } } }));
  const r = await sb.ok(["config", "show"]);
  assert.match(r.stdout, /state dir\s+\S+ \(from the command line\)/);
  assert.match(r.stdout, /^sessions\.model\s+"claude-sonnet-4"\s+file$/m);
  assert.match(r.stdout, /^sessions\.tools\.group\.deny\s+\["shell\.\*"\]\s+file$/m);
  assert.match(r.stdout, /^sessions\.tools\.group\.allow\s+\["\*"\]\s+default$/m);
  assert.match(r.stdout, /^storage\.lockTimeoutMs\s+10000 \(10 s\)\s+default$/m);
  assert.match(r.stdout, /^sessions\.expirationMs\s+86400000 \(1 d\)\s+default$/m);
});

test("config show never prints the gateway token or credentials in model URLs", async (t) => {
  const sb = await sandbox(t);
  await mkdir(sb.stateDir, { recursive: true });
  const config = {
    sessions: { summarizer: { type: "openai-compatible", baseUrl: "https://bob:hunter2@llm.example/v1?api-key=sk-live-1", model: "m" } },
    gateway: { auth: { token: "gw-secret-0123456789" }, model: { baseUrl: "http://alice:pw-42@127.0.0.1:11434/v1", model: "llama3" } },
  };
  await writeFile(join(sb.stateDir, "config.json"), JSON.stringify(config));
  for (const args of [
    ["config", "show"],
    ["config", "show", "--json"],
  ]) {
    const r = await sb.ok(args);
    for (const secret of ["gw-secret-0123456789", "hunter2", "sk-live-1", "pw-42", "bob", "alice"]) assert.ok(!r.stdout.includes(secret), `${args.join(" ")} leaks ${secret}`);
    assert.match(r.stdout, /\[redacted\]/);
    assert.match(r.stdout, /127\.0\.0\.1:11434\/v1/, "the rest of the URL stays readable");
  }
});

test("config validate: valid file, unknown keys warn, missing file means defaults", async (t) => {
  const sb = await sandbox(t);
  const missing = await sb.ok(["config", "validate"]);
  assert.match(missing.stdout, /^config\.json: no file at .*; the defaults apply$/m);
  await mkdir(sb.stateDir, { recursive: true });
  await writeFile(join(sb.stateDir, "config.json"), JSON.stringify({ sessions: { maxHistoryLength: 50, colour: "blue" } }));
  const r = await sb.ok(["config", "validate"]);
  assert.equal(r.stdout, "config.json: valid\n");
  assert.equal(r.stderr, "warning: config.json: unknown key sessions.colour is ignored\n");
});

test("an invalid config value is one line naming the key, exit 1, for every command", async (t) => {
  const sb = await sandbox(t);
  await mkdir(sb.stateDir, { recursive: true });
  await writeFile(join(sb.stateDir, "config.json"), JSON.stringify({ sessions: { maxHistoryLength: "abc" } }));
  for (const args of [["config", "validate"], ["sessions", "list"], ["config", "show"], ["status"]]) {
    const r = await sb.run(args);
    assert.equal(r.code, 1, args.join(" "));
    assert.equal(r.stderr, 'error: config.json: sessions.maxHistoryLength: expected an integer ≥ 1, got "abc"\n', args.join(" "));
  }
});

test("malformed config JSON is reported with line and column, exit 1", async (t) => {
  const sb = await sandbox(t);
  await mkdir(sb.stateDir, { recursive: true });
  await writeFile(join(sb.stateDir, "config.json"), '{\n  "sessions": {\n    "maxHistoryLength": 5,\n  }\n}\n');
  for (const args of [
    ["config", "validate"],
    ["sessions", "list"],
  ]) {
    const r = await sb.run(args);
    assert.equal(r.code, 1);
    assert.match(errorLine(r), /^error: config\.json: malformed JSON at line 4, column 3: /);
  }
});

test("no stack trace unless OPENCLAW_DEBUG=1", async (t) => {
  const sb = await sandbox(t);
  const quiet = await sb.run(["sessions", "show", "dm:telegram:404"]);
  assert.equal(quiet.stderr, 'error: no session matches "dm:telegram:404"\n');
  const loud = await sb.run(["sessions", "show", "dm:telegram:404"], { env: { OPENCLAW_DEBUG: "1" } });
  assert.equal(loud.code, 1);
  assert.match(loud.stderr, /^error: no session matches "dm:telegram:404"\n/);
  assert.match(loud.stderr, /\n\s+at /);
});
