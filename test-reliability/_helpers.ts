import type { ChildProcess } from "node:child_process";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import type { Message, Session } from "../src/session/types.js";
import { openFileStore } from "../src/store/file/file-store.js";
import { toExported } from "../src/session/export.js";
import { runCli as runCliIn, type CliResult } from "../test/helpers/cli-run.js";

/** The repository root. */
export const ROOT = fileURLToPath(new URL("../", import.meta.url));
/** The built CLI, run as an operator runs it. */
export const CLI = join(ROOT, "dist", "cli", "main.js");
const WRITER = fileURLToPath(new URL("./_writer.mjs", import.meta.url));
const DOC_RE = /^([0-9a-f-]{36})\.json$/;

/** A positive integer from the environment, or the CI-sized default. */
export function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === "") return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  return value;
}

/** A seeded generator (RELIABILITY_SEED, else random and reported), so a failing run can be replayed. */
export function seededRandom(): { seed: number; next: () => number } {
  const seed = envInt("RELIABILITY_SEED", 1 + Math.floor(Math.random() * 2 ** 31));
  let state = seed;
  return {
    seed,
    next: () => {
      // mulberry32
      state = (state + 0x6d2b79f5) | 0;
      let t = Math.imul(state ^ (state >>> 15), 1 | state);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    },
  };
}

/** A fresh temporary directory and its removal. */
export async function tempDir(prefix: string): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), `openclaw-rel-${prefix}-`));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** A running writer child (test-reliability/_writer.mjs) and what it acknowledged. */
export interface Writer {
  child: ChildProcess;
  /** Acknowledged sequence numbers per user, in acknowledgement order. */
  acked: Map<string, number[]>;
  stderr: string[];
  /** Exit code and signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves once `n` acks in all have arrived, or the child has exited. */
  acks(n: number): Promise<void>;
  /** Total acks so far. */
  count(): number;
}

/** Starts a writer: `style` gateway (manager.receive, one loop per user) or cli (route + append, round-robin). */
export function startWriter(stateDir: string, tag: string, style: "gateway" | "cli", seconds: number | undefined, users: readonly string[], paceMs = 0): Writer {
  const child = spawn(process.execPath, [WRITER, stateDir, tag, style, seconds === undefined ? "-" : String(seconds), ...users], {
    cwd: ROOT,
    env: { ...process.env, WRITER_PACE_MS: String(paceMs) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const acked = new Map<string, number[]>();
  const stderr: string[] = [];
  let total = 0;
  let done = false;
  const waiters: { n: number; resolve: () => void }[] = [];
  const wake = () => {
    for (const w of waiters.splice(0)) {
      if (total >= w.n || done) w.resolve();
      else waiters.push(w);
    }
  };
  let buffered = "";
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    buffered += chunk;
    const lines = buffered.split("\n");
    buffered = lines.pop() ?? "";
    for (const line of lines) {
      const m = /^ack (\S+) (\d+)$/.exec(line);
      if (m === null) continue;
      const [, user = "", n = ""] = m;
      acked.set(user, [...(acked.get(user) ?? []), Number(n)]);
      total++;
    }
    wake();
  });
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => stderr.push(chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on("exit", (code, signal) => {
      done = true;
      wake();
      resolve({ code, signal });
    });
  });
  return {
    child,
    acked,
    stderr,
    exited,
    count: () => total,
    acks: (n) =>
      new Promise<void>((resolve) => {
        waiters.push({ n, resolve });
        wake();
      }),
  };
}

/** What is on disk, read without taking any lock: every document and its history as an export would show it. */
export interface StoreView {
  sessions: (Session & { history: Message[] })[];
  /** Warnings the store raised while reading (a corrupt document is quarantined and named here). */
  warnings: string[];
  /** Documents whose raw bytes are not JSON. */
  unparsable: string[];
}

/**
 * Reads every session document as raw JSON (a header with the committed
 * lines of its message file) and through a fresh FileStore
 * (full schema validation), with its pruned history, deduplicated the way
 * export does (the active copy wins).
 */
export async function readStore(stateDir: string): Promise<StoreView> {
  const sessionsDir = join(stateDir, "sessions");
  const warnings: string[] = [];
  const unparsable: string[] = [];
  const store = await openFileStore({ dir: stateDir, warn: (m) => warnings.push(m) });
  const sessions: StoreView["sessions"] = [];
  for (const name of (await readdir(sessionsDir)).sort()) {
    const id = DOC_RE.exec(name)?.[1];
    if (name === "index.json") {
      try {
        JSON.parse(await readFile(join(sessionsDir, name), "utf8"));
      } catch {
        unparsable.push(name);
      }
    }
    if (id === undefined) continue;
    try {
      const header = JSON.parse(await readFile(join(sessionsDir, name), "utf8")) as { messageFile?: { gen: number; bytes: number } };
      // The split layout: the committed lines of the message file the header names must each parse (lines past them are an interrupted checkpoint's).
      const file = header.messageFile;
      if (file !== undefined && file.bytes > 0) {
        const lines = (await readFile(join(sessionsDir, `${id}.${file.gen}.jsonl`))).subarray(0, file.bytes).toString("utf8").split("\n");
        if (lines.pop() !== "") throw new Error("the committed bytes do not end a line");
        for (const line of lines) JSON.parse(line);
      }
    } catch {
      unparsable.push(name);
      continue;
    }
    const loaded = await store.get(id);
    if (loaded === undefined) continue;
    const exported = toExported(loaded.session, await store.readPruned(id));
    sessions.push({ ...loaded.session, history: [...exported.prunedHistory, ...exported.messages] });
  }
  await store.close();
  return { sessions, warnings, unparsable };
}

/** SHA-256 and mtime of every file under `dir`, by relative path (directories with a trailing slash), to prove nothing was written. */
export async function checksums(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
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
        out.set(`${relative(dir, p)}/`, "dir");
        await walk(p);
      } else {
        const hash = createHash("sha256")
          .update(await readFile(p))
          .digest("hex");
        out.set(relative(dir, p), `${hash} ${(await stat(p)).mtimeMs}`);
      }
    }
  };
  await walk(dir);
  return out;
}

export type { CliResult } from "../test/helpers/cli-run.js";

/** Runs the built CLI with HOME pointed at `home` and no OPENCLAW_* variables from the caller's shell. */
export function runCli(args: readonly string[], home: string, input?: string | Buffer): Promise<CliResult> {
  return runCliIn(args, home, input === undefined ? {} : { input });
}

/** The single `error: …` line of a failed run; throws unless the run failed with exactly one such line and no stack trace. */
export function errorLine(r: CliResult): string {
  if (r.code === 0) throw new Error(`expected a failure, the command succeeded: ${r.stdout.slice(0, 200)}`);
  const lines = r.stderr.split("\n").filter((l) => l !== "" && !l.startsWith("warning: "));
  const line = lines[0];
  if (lines.length !== 1 || line === undefined || !line.startsWith("error: ")) throw new Error(`expected one error line, got ${JSON.stringify(r.stderr.slice(0, 2000))}`);
  if (/\n\s+at /.test(r.stderr)) throw new Error(`stack trace on stderr: ${r.stderr.slice(0, 2000)}`);
  return line;
}
