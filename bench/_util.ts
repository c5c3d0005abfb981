import { mkdtemp, readFile, rm } from "node:fs/promises";
import { availableParallelism, cpus, tmpdir, totalmem } from "node:os";
import { join, resolve } from "node:path";
import type { SessionManager } from "../src/manager/manager.js";
import type { NewMessage } from "../src/manager/_message.js";
import type { Message, Session } from "../src/session/types.js";
import { applyAppend, type SessionStore } from "../src/store/store.js";

/** One line of the results table: a figure, its same-run baseline, their ratio and the goal. */
export interface Row {
  scenario: string;
  case: string;
  figure: number;
  unit: string;
  baseline: number;
  baselineLabel: string;
  /** figure ÷ baseline. */
  ratio: number;
  goal: string;
  /** Null where the issue sets no goal. */
  met: boolean | null;
  /** Supporting figures (runs, spread, sizes) kept in the JSON only. */
  extra?: Record<string, number | string | boolean>;
}

/** Median of a non-empty list. */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error("median of nothing");
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/** The smallest and largest value, for the spread reported next to a median. */
export function range(values: readonly number[]): { min: number; max: number } {
  return { min: Math.min(...values), max: Math.max(...values) };
}

/** Rounds to `digits` significant digits so the JSON stays readable. */
export function sig(value: number, digits = 4): number {
  return Number.isFinite(value) && value !== 0 ? Number(value.toPrecision(digits)) : value;
}

/** An integer from the environment, or the default. */
export function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === "") return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  return value;
}

/** A comma-separated list of positive integers from the environment, or the default. */
export function envSizes(name: string, fallback: readonly number[]): number[] {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === "") return [...fallback];
  return raw.split(",").map((part) => {
    const value = Number(part.trim());
    if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`${name}: ${JSON.stringify(part)} is not a positive integer`);
    return value;
  });
}

/** A scratch directory under BENCH_DIR (default: the OS temp dir) and its removal. */
export async function scratch(prefix: string): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const root = resolve(process.env.BENCH_DIR ?? tmpdir());
  const dir = await mkdtemp(join(root, `openclaw-bench-${prefix}-`));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Milliseconds elapsed while `fn` runs. */
export async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

/** What the results were measured on. */
export interface Machine {
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  platform: string;
  /** Filesystem type and device holding the benchmark's scratch directories. */
  filesystem: string;
}

/** Describes this machine and the filesystem under `dir`. */
export async function machine(dir: string): Promise<Machine> {
  return {
    cpus: availableParallelism(),
    cpuModel: cpus()[0]?.model.trim() ?? "unknown",
    memoryGiB: sig(totalmem() / 2 ** 30, 3),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    filesystem: await filesystemOf(dir),
  };
}

// The longest mount point that prefixes `dir` is the one holding it.
async function filesystemOf(dir: string): Promise<string> {
  let mounts: string;
  try {
    mounts = await readFile("/proc/mounts", "utf8");
  } catch {
    return "unknown";
  }
  let best: { point: string; text: string } | undefined;
  for (const line of mounts.split("\n")) {
    const [device, point, type] = line.split(" ");
    if (device === undefined || point === undefined || type === undefined) continue;
    const inside = dir === point || dir.startsWith(point.endsWith("/") ? point : `${point}/`);
    if (inside && (best === undefined || point.length > best.point.length)) best = { point, text: `${type} (${device} on ${point})` };
  }
  return best?.text ?? "unknown";
}

/** A figure with a sensible number of digits for the table. */
export function show(value: number, unit: string): string {
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : Math.abs(value) >= 1 ? 2 : 3;
  return `${value.toFixed(digits)} ${unit}`;
}

/** Prints rows as a plain-text table. */
export function renderTable(rows: readonly Row[]): string {
  const header = ["scenario", "case", "figure", "baseline (same run)", "ratio", "goal", "met"];
  const body = rows.map((r) => [
    r.scenario,
    r.case,
    `${r.extra?.timedOut === true ? "≥ " : ""}${show(r.figure, r.unit)}`,
    `${show(r.baseline, r.unit)} ${r.baselineLabel}`,
    `${r.ratio.toFixed(2)}×`,
    r.goal,
    r.met === null ? "—" : r.met ? "yes" : "NO",
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((line) => (line[i] ?? "").length)));
  const fmt = (cells: readonly string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  return [fmt(header), fmt(widths.map((w) => "-".repeat(w))), ...body.map(fmt)].join("\n");
}

/**
 * Starts `manager`'s fold thread and appends to a scratch session until it
 * has folded twice, so the code a fold runs (summarizer, identifier scans,
 * the fold's commit) is loaded and compiled before anything is timed: a timed run of a few
 * hundred appends would otherwise carry that one-time cost in its figure.
 */
export async function warmUpFolds(manager: SessionManager, key: string, next: (i: number) => NewMessage): Promise<void> {
  // The fold thread too, as a long-running process has it (without this, the thread a process starts at its
  // second fold was still loading while the timed appends ran: 0.21× instead of 0.32× raw, sequential appends).
  await manager.warmUp();
  const { id } = await manager.create({ key });
  let folds = 0;
  let pruned = 0;
  for (let i = 0; folds < 2; i++) {
    if (i >= 2_000) throw new Error(`the warm-up session never folded twice in ${i} appends: check the default limits`);
    const session = (await manager.record({ ref: id }, next(i))).session;
    if (session.prunedCount > pruned) folds++;
    pruned = session.prunedCount;
  }
}

/**
 * Appends `messages` after `start`, one at a time, through the store's
 * append capability alone (no routing, token counting, folds or events):
 * what a store's own append costs. The messages are made before the clock
 * starts; the results are returned in order (session after each append), so
 * the raw baseline's bytes can be made after it stops.
 */
export async function appendThroughStore(store: SessionStore, start: Session, messages: readonly Message[]): Promise<Session[]> {
  const saved: Session[] = [];
  let s = start;
  for (const m of messages) {
    const { status, expiredAt, archivedAt, participants, context } = s;
    const header = { status, updatedAt: m.createdAt, lastActivityAt: m.createdAt, expiredAt, archivedAt, participants, context };
    // Frozen, as the manager's cache holds it: a store may share such messages instead of copying them.
    Object.freeze(m);
    s = applyAppend(s, header, [m], (await store.appendMessages(s.id, s.revision, header, [m])).revision);
    saved.push(s);
  }
  return saved;
}
