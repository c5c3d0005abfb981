import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { test } from "node:test";
import { CLI, sandbox, type Sandbox } from "../helpers/cli-run.js";

const quote = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;

/**
 * Runs the CLI on a pseudo-terminal (util-linux `script`), as an operator
 * would at a shell, answering `answer` when a `[y/N]` question appears.
 */
function onTerminal(sb: Sandbox, args: readonly string[], answer: string | null): Promise<{ code: number; output: string; asked: boolean }> {
  const command = [process.execPath, CLI, "--state-dir", sb.stateDir, ...sb.storeArgs, ...args].map(quote).join(" ");
  return new Promise((resolve, reject) => {
    const child = spawn("script", ["-qec", command, "/dev/null"], { env: { ...process.env, HOME: sb.home, NO_COLOR: "1" }, stdio: ["pipe", "pipe", "pipe"] });
    let output = "";
    let asked = false;
    child.stdout.on("data", (b: Buffer) => {
      output += b.toString("utf8");
      if (!asked && output.includes("[y/N]")) {
        asked = true;
        child.stdin.write(`${answer ?? ""}\n`);
      }
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? -1, output, asked }));
    if (answer === null) child.stdin.end();
  });
}

const messageCount = async (sb: Sandbox) => (await sb.json<{ messages: unknown[] }>(["sessions", "show", "dm:telegram:1"])).messages.length;

test("clear and delete of an active session ask on a terminal; declining changes nothing; --yes skips the question", async (t) => {
  const sb = await sandbox(t);
  await sb.ok(["sessions", "append", "--dm", "telegram:1", "keep me"]);

  const no = await onTerminal(sb, ["sessions", "clear", "dm:telegram:1"], "n");
  assert.equal(no.asked, true);
  assert.match(no.output, /clear the history of active session .* \(dm:telegram:1, 1 message\)\? \[y\/N\]/);
  assert.equal(no.code, 1);
  assert.match(no.output, /error: not confirmed; nothing was cleared \(give --yes to skip this question\)/);
  assert.equal(await messageCount(sb), 1);

  const yes = await onTerminal(sb, ["sessions", "clear", "dm:telegram:1"], "y");
  assert.equal(yes.code, 0, yes.output);
  assert.equal(await messageCount(sb), 0);

  await sb.ok(["sessions", "append", "--dm", "telegram:1", "again"]);
  const skip = await onTerminal(sb, ["sessions", "clear", "dm:telegram:1", "--yes"], null);
  assert.equal(skip.asked, false);
  assert.equal(skip.code, 0, skip.output);

  const keep = await onTerminal(sb, ["sessions", "delete", "dm:telegram:1"], "");
  assert.equal(keep.asked, true, "an empty answer is no");
  assert.equal(keep.code, 1);
  assert.match(keep.output, /delete 1 active session \(dm:telegram:1\) and all their history\?/);
  assert.equal((await sb.json<{ total: number }>(["sessions", "list"])).total, 1);
  const gone = await onTerminal(sb, ["sessions", "delete", "dm:telegram:1", "-y"], null);
  assert.equal(gone.code, 0, gone.output);
  assert.equal((await sb.json<{ total: number }>(["sessions", "list", "--status", "all"])).total, 0);
});

test("off a terminal nothing is asked: scripts clear and delete without --yes", async (t) => {
  const sb = await sandbox(t);
  await sb.ok(["sessions", "append", "--dm", "telegram:1", "x"]);
  const r = await sb.ok(["sessions", "clear", "dm:telegram:1"]);
  assert.doesNotMatch(r.stderr, /\[y\/N\]/);
  await sb.ok(["sessions", "delete", "dm:telegram:1"]);
  assert.equal((await sb.json<{ total: number }>(["sessions", "list", "--status", "all"])).total, 0);
});
