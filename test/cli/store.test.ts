import assert from "node:assert/strict";
import { redactStoreUri } from "../../src/config/redact.js";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { errorLine, runCli, sandbox, snapshot } from "../helpers/cli-run.js";
import { seed } from "../helpers/cli-fixtures.js";
import { FILE_STORE_ONLY } from "../helpers/test-store.js";

interface StatusJson {
  store: string;
  storeLocation: string;
  storeSource: string;
  total: number;
}

interface CopyJson {
  total: number;
  created: number;
  updated: number;
  unchanged: number;
  onlyInTarget: number;
  failed: unknown[];
  dryRun: boolean;
  verified?: { sessions: number; mismatched: string[]; checksum: string };
}

test("store choice: --store beats OPENCLAW_STORE beats storage.uri beats the state dir", { skip: FILE_STORE_ONLY }, async (t) => {
  const sb = await sandbox(t);
  const dirs = { flag: join(sb.home, "s-flag"), env: join(sb.home, "s-env"), config: join(sb.home, "s-config") };
  await mkdir(sb.stateDir, { recursive: true });
  const status = async (args: string[], env: Record<string, string> = {}) => {
    const r = await sb.run([...args, "status", "--json"], { env });
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as StatusJson;
  };
  const byDefault = await status([]);
  assert.deepEqual([byDefault.store, byDefault.storeLocation, byDefault.storeSource], ["file", `file:${sb.stateDir}`, "default"]);
  await writeFile(join(sb.stateDir, "config.json"), JSON.stringify({ storage: { uri: `file:${dirs.config}` } }));
  assert.deepEqual(await status([]).then((s) => [s.storeLocation, s.storeSource]), [`file:${dirs.config}`, "config"]);
  const env = { OPENCLAW_STORE: `file:${dirs.env}` };
  assert.deepEqual(await status([], env).then((s) => [s.storeLocation, s.storeSource]), [`file:${dirs.env}`, "env"]);
  assert.deepEqual(await status(["--store", `file:${dirs.flag}`], env).then((s) => [s.storeLocation, s.storeSource]), [`file:${dirs.flag}`, "flag"]);

  // The message lands in the winner's store and only there.
  await sb.ok(["--store", `file:${dirs.flag}`, "sessions", "append", "--dm", "telegram:1", "hi"], { env });
  const total = async (args: string[], e: Record<string, string> = {}) => (await sb.json<{ total: number }>([...args, "sessions", "list"], { env: e })).total;
  assert.equal(await total(["--store", `file:${dirs.flag}`]), 1);
  assert.equal(await total([], env), 0);
  assert.equal(await total([]), 0);
  const human = await sb.ok(["--store", `file:${dirs.flag}`, "status"]);
  assert.match(human.stdout, new RegExp(`^\\s*store\\s+file at ${dirs.flag.replace(/[/.]/g, "\\$&")}, .* on disk \\(from the command line\\)$`, "m"));
});

test("a store URI with an unknown scheme is one line that never echoes its credentials", { skip: FILE_STORE_ONLY }, async (t) => {
  const sb = await sandbox(t);
  for (const [args, env] of [
    [["--store", "redis://admin:s3cret-pw@cache.internal:6379/0", "sessions", "list"], {}],
    [["sessions", "list"], { OPENCLAW_STORE: "mysql://root:s3cret-pw@db/openclaw" }],
  ] as const) {
    const r = await sb.run(args, { env });
    assert.equal(r.code, 1, r.stderr);
    assert.match(errorLine(r), /unsupported store URI scheme "(redis|mysql):"/);
    assert.ok(!r.stderr.includes("s3cret-pw") && !r.stderr.includes("admin"), r.stderr);
  }
});

test("config show hides the credentials of storage.uri and keeps the rest readable", async (t) => {
  const sb = await sandbox(t);
  await mkdir(sb.stateDir, { recursive: true });
  await writeFile(join(sb.stateDir, "config.json"), JSON.stringify({ storage: { uri: "postgres://openclaw:pg-pass-77@db.internal:5433/sessions?sslmode=require&password=qq-99" } }));
  for (const args of [
    ["config", "show"],
    ["config", "show", "--json"],
  ]) {
    const r = await sb.ok(args);
    for (const secret of ["pg-pass-77", "qq-99", "openclaw:"]) assert.ok(!r.stdout.includes(secret), `${args.join(" ")} leaks ${secret}`);
    assert.match(r.stdout, /\[redacted\]@db\.internal:5433\/sessions\?sslmode=require&password=\[redacted\]/, "only the secrets are hidden");
  }
});

test("store copy shows a URI with no password as given: only secrets are redacted", () => {
  assert.equal(redactStoreUri("postgres://openclaw@db.internal:5432/sessions?sslmode=require"), "postgres://openclaw@db.internal:5432/sessions?sslmode=require");
  assert.equal(redactStoreUri("postgres://db.internal/sessions"), "postgres://db.internal/sessions");
  assert.equal(redactStoreUri("postgres://u:pw@h/db?sslpassword=x&application_name=a"), "postgres://[redacted]@h/db?sslpassword=[redacted]&application_name=a");
});

test("store copy moves every session with its pruned history, verifies it, and is safe to re-run", async (t) => {
  const sb = await sandbox(t);
  const target = join(sb.home, "target");
  const envelope = await seed(sb, [
    { key: "dm:telegram:1", messages: 4, pruned: 3, summary: "earlier: order #1001" },
    { key: "group:slack:C1", messages: 2 },
    { key: "isolated:task:a", status: "archived" },
  ]);

  const dry = await sb.json<CopyJson>(["store", "copy", "--from", sb.storeUri, "--to", `file:${target}`, "--dry-run"]);
  assert.deepEqual([dry.dryRun, dry.total, dry.created, dry.verified], [true, 3, 3, undefined]);
  assert.equal((await sb.json<{ total: number }>(["--store", `file:${target}`, "sessions", "list", "--status", "all"])).total, 0, "a dry run writes nothing");

  const first = await sb.json<CopyJson>(["store", "copy", "--from", sb.storeUri, "--to", `file:${target}`]);
  assert.deepEqual([first.total, first.created, first.updated, first.unchanged, first.failed.length], [3, 3, 0, 0, 0]);
  assert.deepEqual([first.verified?.sessions, first.verified?.mismatched], [3, []]);

  // The copy exports exactly what the source exports.
  const exported = async (args: string[]) => JSON.parse((await sb.ok([...args, "sessions", "export", "--all"])).stdout) as { sessions: Array<{ id: string; revision: number }> };
  const strip = (e: { sessions: Array<{ id: string; revision: number }> }) => e.sessions.map(({ revision: _r, ...rest }) => rest).sort((a, b) => a.id.localeCompare(b.id));
  assert.deepEqual(strip(await exported(["--store", `file:${target}`])), strip(await exported([])));
  assert.equal((await exported(["--store", `file:${target}`])).sessions.find((s) => s.id === envelope.sessions[0]?.id) !== undefined, true);

  // Re-running changes nothing; a source change is carried over; target-only sessions stay.
  const again = await sb.json<CopyJson>(["store", "copy", "--from", sb.storeUri, "--to", `file:${target}`]);
  assert.deepEqual([again.created, again.updated, again.unchanged], [0, 0, 3]);
  assert.equal(again.verified?.checksum, first.verified?.checksum);
  await sb.ok(["sessions", "append", "--dm", "telegram:1", "one more"]);
  await sb.ok(["--store", `file:${target}`, "sessions", "append", "--dm", "discord:9", "only here"]);
  const third = await sb.json<CopyJson>(["store", "copy", "--from", sb.storeUri, "--to", `file:${target}`]);
  assert.deepEqual([third.created, third.updated, third.unchanged, third.onlyInTarget], [0, 1, 2, 1]);
  const human = await sb.ok(["store", "copy", "--from", sb.storeUri, "--to", `file:${target}`]);
  assert.match(human.stdout, /^copied 3 sessions from .* \(0 new, 0 updated, 3 unchanged\)$/m);
  assert.match(human.stdout, /^1 session only in the target, left alone$/m);
  assert.match(human.stdout, /^verified 3 sessions in the target: all match; checksum [0-9a-f]{16}$/m);
});

test("store copy refuses a copy onto itself and a bad URI, writing nothing", async (t) => {
  const sb = await sandbox(t);
  await seed(sb, [{ key: "dm:telegram:1" }]);
  const before = await snapshot(sb.stateDir);
  const self = await sb.run(["store", "copy", "--from", sb.storeUri, "--to", sb.storeUri.startsWith("file:") ? `${sb.storeUri}/` : sb.storeUri]);
  assert.equal(self.code, 1);
  assert.match(errorLine(self), /--from and --to name the same store/);
  const bad = await sb.run(["store", "copy", "--from", sb.storeUri, "--to", "ftp://u:topsecret@x/y"]);
  assert.equal(bad.code, 1);
  assert.match(errorLine(bad), /unsupported store URI scheme "ftp:"/);
  assert.ok(!bad.stderr.includes("topsecret"));
  const missing = await runCli(["store", "copy", "--from", sb.storeUri], sb.home);
  assert.equal(missing.code, 2);
  assert.match(errorLine(missing), /required option '--to <uri>'/);
  assert.deepEqual(await snapshot(sb.stateDir), before);
});
