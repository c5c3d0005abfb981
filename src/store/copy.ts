import { createHash } from "node:crypto";
import { isOpenclawError } from "../errors.js";
import type { Message, Session } from "../session/types.js";
import { throwIfAborted } from "./_mutex.js";
import type { SessionStore } from "./store.js";

/** Options of {@link copySessions}. */
export interface CopyOptions {
  /** Count what would change, write nothing. */
  dryRun?: boolean;
  /** Called after each session with the number done and the total. */
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

/** A session the copy could not write, and why. */
export interface CopyFailure {
  id: string;
  error: string;
}

/** What {@link copySessions} did (or, dry, would do). */
export interface CopyReport {
  /** Sessions in the source when the copy started. */
  total: number;
  /** Written to a target that did not have them. */
  created: number;
  /** Written over a target copy that differed. */
  updated: number;
  /** Already identical in the target. */
  unchanged: number;
  /** Sessions gone from the source while the copy ran. */
  vanished: number;
  failed: CopyFailure[];
  /** Sessions only the target has (left alone). */
  onlyInTarget: number;
  /** After the copy: every copied session read back from the target matches the source (absent on a dry run). */
  verified?: { sessions: number; mismatched: string[]; checksum: string };
}

/**
 * Copies every session, its document and its pruned history, from one store
 * to another of any backend. Safe to re-run: a session the target already
 * holds identically is left alone, one that differs is replaced by the
 * source's copy, and sessions only the target has are counted, never
 * deleted. At the end every copied session is read back and compared by
 * checksum; the combined checksum lets two stores be compared by eye.
 */
export async function copySessions(from: SessionStore, to: SessionStore, options: CopyOptions = {}): Promise<CopyReport> {
  const ids = (await from.list()).items.map((s) => s.id);
  const report: CopyReport = { total: ids.length, created: 0, updated: 0, unchanged: 0, vanished: 0, failed: [], onlyInTarget: 0 };
  const expected = new Map<string, string>();
  let done = 0;
  for (const id of ids) {
    throwIfAborted(options.signal);
    const source = await from.get(id);
    if (source === undefined) {
      report.vanished += 1;
    } else {
      const pruned = await from.readPruned(id);
      const sum = sessionChecksum(source.session, pruned);
      const target = await to.get(id);
      const targetSum = target === undefined ? undefined : sessionChecksum(target.session, await to.readPruned(id));
      if (targetSum === sum) {
        report.unchanged += 1;
        expected.set(id, sum);
      } else if (options.dryRun) {
        if (target === undefined) report.created += 1;
        else report.updated += 1;
      } else {
        try {
          await to.commit({ session: source.session, expectedRevision: target?.session.revision ?? null, pruned: { replace: pruned }, reason: "imported" });
          if (target === undefined) report.created += 1;
          else report.updated += 1;
          expected.set(id, sum);
        } catch (err) {
          if (!isOpenclawError(err)) throw err;
          report.failed.push({ id, error: err.message });
        }
      }
    }
    options.onProgress?.(++done, ids.length);
  }
  const sourceIds = new Set(ids);
  report.onlyInTarget = (await to.list()).items.filter((s) => !sourceIds.has(s.id)).length;
  if (!options.dryRun) report.verified = await verify(to, expected, options.signal);
  return report;
}

async function verify(to: SessionStore, expected: ReadonlyMap<string, string>, signal?: AbortSignal): Promise<NonNullable<CopyReport["verified"]>> {
  const mismatched: string[] = [];
  const combined = createHash("sha256");
  for (const id of [...expected.keys()].sort()) {
    throwIfAborted(signal);
    const loaded = await to.get(id);
    const sum = loaded === undefined ? "absent" : sessionChecksum(loaded.session, await to.readPruned(id));
    if (sum !== expected.get(id)) mismatched.push(id);
    combined.update(`${id} ${sum}\n`);
  }
  return { sessions: expected.size, mismatched, checksum: combined.digest("hex") };
}

/**
 * A digest of what a session holds, equal across backends: the revision is
 * left out (each store counts its own writes) and keys are sorted (a
 * database may reorder them).
 */
export function sessionChecksum(session: Session, pruned: readonly Message[]): string {
  const { revision: _revision, ...content } = session;
  return createHash("sha256").update(canonicalJson({ content, pruned })).digest("hex");
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}
