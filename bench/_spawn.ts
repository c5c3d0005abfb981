import { spawn } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The built CLI, run exactly as an operator runs it. */
export const CLI = fileURLToPath(new URL("../dist/cli/main.js", import.meta.url));
const MAXRSS_PRELOAD = fileURLToPath(new URL("./_maxrss.mjs", import.meta.url));
const GNU_TIME = "/usr/bin/time";

/** What one measured child run produced. */
export interface ChildRun {
  wallMs: number;
  /** Peak resident set size of the child in KiB. */
  maxRssKiB: number;
  code: number;
  stdout: string;
  stderr: string;
  /** True when the run was stopped at its time limit. */
  timedOut: boolean;
}

function hasGnuTime(): boolean {
  try {
    accessSync(GNU_TIME, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** How peak RSS is measured here: GNU time when installed, else a preload reading the child's own rusage at exit. */
export const RSS_METHOD = hasGnuTime() ? "/usr/bin/time -f %M" : "preload: process.resourceUsage().maxRSS at exit";

/**
 * Runs `node <args>` once and measures wall time (spawn to exit, as a shell
 * user sees it) and peak RSS. stdout is discarded unless `captureStdout`, so
 * a large listing costs what writing to /dev/null costs.
 */
export async function runNode(args: readonly string[], options: { env?: NodeJS.ProcessEnv; captureStdout?: boolean; timeoutMs?: number } = {}): Promise<ChildRun> {
  const tmp = await mkdtemp(join(tmpdir(), "openclaw-bench-rss-"));
  const rssFile = join(tmp, "maxrss");
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1", ...options.env };
  let command: string;
  let argv: string[];
  if (hasGnuTime()) {
    command = GNU_TIME;
    argv = ["-f", "%M", "-o", rssFile, process.execPath, ...args];
  } else {
    command = process.execPath;
    argv = ["--import", MAXRSS_PRELOAD, ...args];
    env.BENCH_MAXRSS_FILE = rssFile;
  }
  try {
    const started = performance.now();
    let timedOut = false;
    const result = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve, reject) => {
      // detached: the time limit must stop the measured process, not only GNU time in front of it.
      const child = spawn(command, argv, { env, detached: true, stdio: ["ignore", options.captureStdout ? "pipe" : "ignore", "pipe"] });
      const timer =
        options.timeoutMs === undefined
          ? undefined
          : setTimeout(() => {
              timedOut = true;
              if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
            }, options.timeoutMs);
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout?.on("data", (b: Buffer) => out.push(b));
      child.stderr?.on("data", (b: Buffer) => err.push(b));
      child.on("error", reject);
      child.on("close", (code) => {
        clearTimeout(timer);
        resolve({ code: code ?? -1, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") });
      });
    });
    const wallMs = performance.now() - started;
    const text = await readFile(rssFile, "utf8").catch(() => "");
    // GNU time may prefix a note ("Command exited with non-zero status"); the figure is the last line.
    const maxRssKiB = Number(text.trim().split("\n").pop() ?? "NaN");
    return { wallMs, maxRssKiB, ...result, timedOut };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** Runs `node <args>` `runs` times after one untimed warm-up (unless the caller did one); fails on a non-zero exit. */
export async function repeat(args: readonly string[], runs: number, options: { env?: NodeJS.ProcessEnv; skipWarmUp?: boolean } = {}): Promise<ChildRun[]> {
  const out: ChildRun[] = [];
  for (let i = options.skipWarmUp ? 1 : 0; i <= runs; i++) {
    const r = await runNode(args, options.env === undefined ? {} : { env: options.env });
    if (r.code !== 0) throw new Error(`node ${args.join(" ")} exited ${r.code}: ${r.stderr.trim()}`);
    if (i > 0) out.push(r);
  }
  return out;
}
