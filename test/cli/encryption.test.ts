import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { chmod, mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { errorLine, runCli, sandbox, snapshot } from "../helpers/cli-run.js";
import { TEST_BACKEND } from "../helpers/test-store.js";

const MARK = "zebra-cli-4711";
const key = (): string => randomBytes(32).toString("base64");

interface SearchJson {
  count: number;
  sessionsSearched: number;
}

/** Every file's bytes under `dir`, as text. */
async function rawFiles(dir: string): Promise<string> {
  let out = "";
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) out += (await readFile(join(e.parentPath, e.name))).toString("latin1");
  }
  return out;
}

async function encryptedConfig(stateDir: string, encryption: object): Promise<void> {
  await mkdir(stateDir, { recursive: true });
  await writeFile(join(stateDir, "config.json"), JSON.stringify({ storage: { encryption } }));
}

test("an encrypted store: append, search, show and doctor work with the key; without it or with another, one error line and nothing written", async (t) => {
  const sb = await sandbox(t);
  await encryptedConfig(sb.stateDir, { keyEnv: "OC_KEY" });
  const env = { OC_KEY: key() };
  await sb.ok(["sessions", "append", "--dm", "telegram:1", `hello ${MARK}`], { env });
  await sb.ok(["sessions", "append", "--dm", "telegram:2", "nothing to see"], { env });
  const found = await sb.json<SearchJson>(["sessions", "search", MARK], { env });
  assert.equal(found.count, 1, "search decrypts what it reads: the text probe must not rule the session out");
  assert.match((await sb.ok(["sessions", "show", "dm:telegram:1"], { env })).stdout, new RegExp(MARK));
  const doctor = await sb.json<{ sessions: number; remaining: number }>(["doctor"], { env });
  assert.deepEqual([doctor.sessions, doctor.remaining], [2, 0]);
  if (TEST_BACKEND === "file") assert.ok(!(await rawFiles(join(sb.stateDir, "sessions"))).includes(MARK), "no file holds the message in plain text");

  const before = await snapshot(sb.stateDir);
  const missing = await sb.run(["sessions", "list"]);
  assert.notEqual(missing.code, 0);
  assert.match(errorLine(missing), /OC_KEY.*not set/);
  const wrong = await sb.run(["sessions", "append", "--dm", "telegram:1", "more"], { env: { OC_KEY: key() } });
  assert.notEqual(wrong.code, 0);
  assert.match(errorLine(wrong), /encryption key .* is not the key of/);
  const noKey = await runCli(["--state-dir", join(sb.home, "other"), ...sb.storeArgs, "--store", sb.storeUri, "sessions", "search", MARK], sb.home);
  assert.notEqual(noKey.code, 0);
  assert.match(errorLine(noKey), /is encrypted .* no key is configured/);
  assert.deepEqual(await snapshot(sb.stateDir), before, "a refused command writes nothing");
});

test("a key file open to other users is refused until it is 0600", async (t) => {
  const sb = await sandbox(t);
  const file = join(sb.home, "store.key");
  await writeFile(file, `${randomBytes(32).toString("hex")}\n`, { mode: 0o644 });
  await chmod(file, 0o644);
  await encryptedConfig(sb.stateDir, { keyFile: file });
  const open = await sb.run(["sessions", "append", "--dm", "telegram:1", "hi"]);
  assert.notEqual(open.code, 0);
  assert.match(errorLine(open), /mode 0644.*chmod 600/);
  await chmod(file, 0o600);
  await sb.ok(["sessions", "append", "--dm", "telegram:1", "hi"]);
  const bad = join(sb.home, "short.key");
  await writeFile(bad, "too-short", { mode: 0o600 });
  await encryptedConfig(sb.stateDir, { keyFile: bad });
  assert.match(errorLine(await sb.run(["sessions", "list"])), /not a 32-byte key/);
});

test("store copy decrypts into a plain store and encrypts back; store rekey rotates the key and loses nothing", async (t) => {
  const sb = await sandbox(t);
  await encryptedConfig(sb.stateDir, { keyEnv: "OC_KEY" });
  const [a, b, c] = [key(), key(), key()];
  for (let i = 1; i <= 3; i++) await sb.ok(["sessions", "append", "--dm", `telegram:${i}`, `message ${i} ${MARK}`], { env: { OC_KEY: a } });

  const plain = join(sb.home, "plain");
  const out = await sb.json<{ created: number; verified: { mismatched: string[] } }>(["store", "copy", "--from", sb.storeUri, "--to", `file:${plain}`, "--to-plain"], { env: { OC_KEY: a } });
  assert.deepEqual([out.created, out.verified.mismatched], [3, []]);
  assert.ok((await rawFiles(join(plain, "sessions"))).includes(MARK), "the plain copy holds plain text");
  const bare = join(sb.home, "bare");
  const readPlain = await runCli(["--state-dir", bare, "--store", `file:${plain}`, "sessions", "search", MARK, "--json"], sb.home);
  assert.equal((JSON.parse(readPlain.stdout) as SearchJson).count, 3, readPlain.stderr);

  const again = join(sb.home, "again");
  await sb.json(["store", "copy", "--from", `file:${plain}`, "--to", `file:${again}`, "--to-key-env", "OC_KEY_B"], { env: { OC_KEY: a, OC_KEY_B: b } });
  assert.ok(!(await rawFiles(join(again, "sessions"))).includes(MARK), "the copy back is sealed");
  const withB = await sb.json<SearchJson>(["--store", `file:${again}`, "sessions", "search", MARK], { env: { OC_KEY: b } });
  assert.equal(withB.count, 3);

  const rekey = await sb.json<{ sessions: number; after: string[] }>(["store", "rekey", "--new-key-env", "OC_KEY_C"], { env: { OC_KEY: a, OC_KEY_C: c } });
  assert.equal(rekey.sessions, 3);
  assert.match(errorLine(await sb.run(["sessions", "list"], { env: { OC_KEY: a } })), /is not the key of/);
  const status = await sb.json<{ encryptionKeys: string[] | null }>(["status"], { env: { OC_KEY: c } });
  assert.deepEqual(status.encryptionKeys, rekey.after, "status names the key the store is sealed with");
  const plainStatus = await runCli(["--state-dir", bare, "--store", `file:${plain}`, "status", "--json"], sb.home);
  assert.equal((JSON.parse(plainStatus.stdout) as { encryptionKeys: unknown }).encryptionKeys, null);
  const afterRekey = await sb.json<SearchJson>(["sessions", "search", MARK], { env: { OC_KEY: c } });
  assert.equal(afterRekey.count, 3, "every message reads back under the new key");
  const doctor = await sb.json<{ sessions: number; remaining: number }>(["doctor"], { env: { OC_KEY: c } });
  assert.deepEqual([doctor.sessions, doctor.remaining], [3, 0]);
});
