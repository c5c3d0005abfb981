import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { chmod, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { CLI } from "./helpers/cli-run.js";
import { within } from "./helpers/within.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const README = readFileSync(join(ROOT, "README.md"), "utf8");
// Where the README's quickstart assumes the gateway listens; the test's gateway takes a free port instead.
const DOCUMENTED = "127.0.0.1:18789";

interface Block {
  /** The word after the name in the marker: a file name for code to save. */
  arg: string | undefined;
  lang: string;
  code: string;
}

/** The README's marked blocks: `<!-- quickstart: NAME [ARG] -->` right above a fenced block. */
function quickstart(): Map<string, Block> {
  const out = new Map<string, Block>();
  for (const m of README.matchAll(/<!-- quickstart: (\S+)(?: (\S+))? -->\n```(\w+)\n([\s\S]*?)\n```/g)) {
    out.set(m[1] as string, { arg: m[2], lang: m[3] as string, code: m[4] as string });
  }
  return out;
}

function block(blocks: Map<string, Block>, name: string): Block {
  const b = blocks.get(name);
  assert.ok(b !== undefined, `README.md has no block marked <!-- quickstart: ${name} -->`);
  return b;
}

/** Runs one shell block as a reader would paste it, stopping at the first failing command. */
function sh(code: string, cwd: string, env: NodeJS.ProcessEnv): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile("bash", ["-euo", "pipefail", "-c", code], { cwd, env, timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${code}\nfailed: ${err.message}\n${stderr}`));
      else resolve({ stdout, stderr });
    });
  });
}

/** Polls `url` until it answers 200, or fails after `ms`. */
async function untilReady(url: string, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  let last = "no answer";
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url);
      if (res.ok) return;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${url} not ready after ${ms} ms: ${last}`);
}

describe("README quickstart", () => {
  it("the built CLI is executable, so the openclaw that npm link puts on the PATH still runs after a rebuild", () => {
    assert.equal(statSync(CLI).mode & 0o111, 0o111, `${CLI} is not executable: npm run build must keep its executable bit`);
  });

  it("the gateway quickstart runs as written, offline with the echo model, in under two minutes", async () => {
    const started = Date.now();
    const blocks = quickstart();
    const home = await mkdtemp(join(tmpdir(), "openclaw-readme-"));
    const work = join(home, "clone");
    const bin = join(home, "bin");
    const stateDir = join(home, ".openclaw");
    await Promise.all([mkdir(work), mkdir(bin), mkdir(stateDir, { mode: 0o700 })]);
    // `openclaw` on the PATH, as `npm link` leaves it; `openai` resolvable from the working directory, as in the clone.
    await writeFile(join(bin, "openclaw"), `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`);
    await chmod(join(bin, "openclaw"), 0o755);
    await symlink(join(ROOT, "node_modules"), join(work, "node_modules"));
    // Only the port differs from a reader's machine: a free one, so the test never meets another gateway.
    await writeFile(join(stateDir, "config.json"), JSON.stringify({ gateway: { port: 0 } }));
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith("OPENCLAW_")) env[k] = v;
    Object.assign(env, { HOME: home, NO_COLOR: "1", PATH: `${bin}:${process.env.PATH ?? ""}` });

    const start = block(blocks, "gateway");
    const gateway = spawn("bash", ["-c", start.code], { cwd: work, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
    let stderr = "";
    gateway.stderr.on("data", (d: Buffer) => (stderr += d.toString("utf8")));
    const exited = new Promise<number | null>((resolve) => gateway.on("exit", (code) => resolve(code)));
    try {
      // The start-up block ends with the dashboard line.
      const banner = await within(
        30_000,
        new Promise<string[]>((resolve, reject) => {
          const lines: string[] = [];
          createInterface({ input: gateway.stdout }).on("line", (line) => {
            lines.push(line);
            if (line.startsWith("dashboard:")) resolve(lines);
          });
          void exited.then((code) => reject(new Error(`gateway exited ${code} before its start-up block: ${stderr}`)));
        }),
      );
      const url = /^listening on (http:\/\/\S+)$/.exec(banner[0] ?? "")?.[1];
      assert.ok(url !== undefined, `first line: ${banner[0]}`);
      const host = new URL(url).host;
      await untilReady(`${url}/ready`, 30_000);

      // The start-up block the README shows is the one it prints, token, paths and port aside.
      const shown = /<!-- quickstart: gateway -->[\s\S]*?```console\n([\s\S]*?)\n```/.exec(README)?.[1];
      assert.ok(shown !== undefined, "README.md shows no start-up block after the gateway command");
      const normal = (text: string, dir: string): string => text.replaceAll(dir, "~").replace(/ocg_[A-Za-z0-9_-]+/g, "ocg_TOKEN");
      assert.equal(normal(banner.join("\n"), home).replaceAll(host, DOCUMENTED), normal(shown, "/home/me"));
      assert.match(banner.join("\n"), /NOT for production/);

      const local = (code: string): string => code.replaceAll(DOCUMENTED, host);
      const curl = await sh(local(block(blocks, "curl").code), work, env);
      const answer = JSON.parse(curl.stdout) as { choices: Array<{ message: { content: string } }> };
      assert.match(answer.choices[0]?.message.content ?? "", /^echo: Book a table for 4 at 19:30 \[context: 1 message/);

      const client = block(blocks, "client");
      assert.ok(client.arg !== undefined, "the client block names its file: <!-- quickstart: client FILE -->");
      await writeFile(join(work, client.arg), local(client.code));
      const run = await sh(local(block(blocks, "client-run").code), work, env);
      // The gateway sent the model the session's history: the first turn and the new question.
      assert.match(run.stdout, /^echo: What did I book\? \[context: 3 messages/);

      const cli = await sh(block(blocks, "cli").code, work, env);
      assert.match(cli.stdout, /dm:telegram:42/);
      const backup = JSON.parse(await readFile(join(work, "backup.json"), "utf8")) as { format: string; sessions: Array<{ key: string; messages: unknown[] }> };
      assert.equal(backup.format, "openclaw-sessions-export");
      assert.equal(backup.sessions[0]?.key, "dm:telegram:42");
      assert.equal(backup.sessions[0]?.messages.length, 5);
    } finally {
      if (gateway.pid !== undefined) process.kill(-gateway.pid, "SIGTERM");
      await within(15_000, exited);
      await rm(home, { recursive: true, force: true });
    }
    assert.ok(Date.now() - started < 120_000, `the quickstart took ${Date.now() - started} ms`);
  });
});
