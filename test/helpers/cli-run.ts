import { spawn } from "node:child_process";
import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { TestContext } from "node:test";
import { testStoreUri } from "./test-store.js";

/** The built CLI entry point; tests run it exactly as an operator would. */
export const CLI = fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));

/** What one CLI run produced. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Options of {@link runCli}. */
export interface RunOptions {
  /** Extra environment; `undefined` removes a variable. */
  env?: Record<string, string | undefined>;
  /** Bytes for stdin (stdin is closed empty otherwise). */
  input?: string | Buffer;
}

/**
 * Runs the CLI with a clean environment: no OPENCLAW_* variables leak in from
 * the developer's shell, HOME points at a throw-away directory so the default
 * state dir is never the real one, and NO_COLOR keeps output plain.
 */
export function runCli(args: readonly string[], home: string, options: RunOptions = {}): Promise<CliResult> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith("OPENCLAW_")) env[k] = v;
  env.HOME = home;
  env.NO_COLOR = "1";
  for (const [k, v] of Object.entries(options.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return runChild(process.execPath, [CLI, ...args], env, options.input);
}

/** Runs a command with piped stdio, feeds it `input`, and collects its exit code and output. */
export function runChild(command: string, args: readonly string[], env: NodeJS.ProcessEnv, input: string | Buffer = ""): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => err.push(b));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? -1, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") }));
    // The command may exit before reading all of a large stdin; that is fine.
    child.stdin.on("error", () => undefined);
    child.stdin.end(input);
  });
}

/** A throw-away home and state directory, and a runner bound to them. */
export interface Sandbox {
  home: string;
  stateDir: string;
  /** The store under test: `--store <uri>` on the postgres run, nothing on the file store. */
  storeArgs: readonly string[];
  /** The store's URI as `store copy` takes it. */
  storeUri: string;
  /** Runs `openclaw --state-dir <stateDir> …args`. */
  run(args: readonly string[], options?: RunOptions): Promise<CliResult>;
  /** Runs and parses stdout as the one JSON document it must be; fails on a non-zero exit. */
  json<T = Record<string, unknown>>(args: readonly string[], options?: RunOptions): Promise<T>;
  /** Runs and fails unless the exit code is 0; returns the result. */
  ok(args: readonly string[], options?: RunOptions): Promise<CliResult>;
}

/** Creates a sandbox removed after the test. */
export async function sandbox(t: TestContext): Promise<Sandbox> {
  const home = await mkdtemp(join(tmpdir(), "openclaw-cli-"));
  const stateDir = join(home, "state");
  t.after(() => rm(home, { recursive: true, force: true }));
  const storeUri = testStoreUri();
  const store = storeUri === undefined ? [] : ["--store", storeUri];
  const run = (args: readonly string[], options?: RunOptions) => runCli(["--state-dir", stateDir, ...store, ...args], home, options);
  const ok = async (args: readonly string[], options?: RunOptions) => {
    const r = await run(args, options);
    if (r.code !== 0) throw new Error(`openclaw ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
    return r;
  };
  return {
    home,
    stateDir,
    storeArgs: store,
    storeUri: storeUri ?? `file:${stateDir}`,
    run,
    ok,
    async json<T>(args: readonly string[], options?: RunOptions) {
      const r = await ok([...args, "--json"], options);
      return JSON.parse(r.stdout) as T;
    },
  };
}

/** Every file under `dir` with its size and mtime, to prove a failed command wrote nothing. */
export async function snapshot(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory()) {
        out.push(`${p}/`);
        await walk(p);
      } else {
        const s = await stat(p);
        out.push(`${p} ${s.size} ${s.mtimeMs}`);
      }
    }
  };
  await walk(dir);
  return out.sort();
}

/** Asserts an error run: the exit code, one `error: ` line, and no stack trace. */
export function errorLine(r: CliResult): string {
  const lines = r.stderr.split("\n").filter((l) => l !== "" && !l.startsWith("warning: "));
  if (lines.length !== 1 || !lines[0]?.startsWith("error: ")) throw new Error(`expected one error line, got: ${JSON.stringify(r.stderr)}`);
  if (/\n\s+at /.test(r.stderr)) throw new Error(`stack trace in stderr: ${r.stderr}`);
  return lines[0];
}
