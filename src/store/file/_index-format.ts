import { lstat } from "node:fs/promises";
import { storageError } from "../../errors.js";
import type { SessionStatus, SessionSummary } from "../../session/types.js";
import { SESSION_KINDS, SESSION_STATUSES } from "../../session/types.js";
import type { ChangeReason } from "../store.js";
import type { FileRead } from "./_fs.js";
import { errnoOf } from "./_fs.js";

// The index is checked by hand rather than with zod: it is derived data read
// on every list, and loading zod would cost more than listing itself.

/** Who wrote a journal line and why; absent on lines older than these fields and on index repairs. */
export interface OpMeta {
  /** The change's reason, so watchers in other processes can tell an append from an edit. */
  r?: ChangeReason;
  /** The writing store instance's random id, so an instance can skip its own changes. */
  w?: string;
}

/**
 * One journal line: a saved summary, or a deletion (with the key when the
 * writer knew it). `ps` is the status the session had before (null: it did
 * not exist), so a list can correct the snapshot's counts without reading it
 * whole; lines without it (older writers, repairs) make the list count fully.
 */
export type Op = ({ op: "put"; s: SessionSummary } | { op: "del"; id: string; k?: string }) & OpMeta & { ps?: SessionStatus | null };

// A Record so adding a ChangeReason without listing it here fails to compile.
const REASONS: Record<ChangeReason, true> = {
  created: true,
  appended: true,
  edited: true,
  compacted: true,
  archived: true,
  unarchived: true,
  expired: true,
  cleared: true,
  imported: true,
  deleted: true,
};

const isCount = (n: unknown): boolean => typeof n === "number" && Number.isInteger(n) && n >= 0;
const isInstantOrNull = (v: unknown): boolean => v === null || typeof v === "string";

/**
 * True when `v` has every field of a SessionSummary with the right type.
 * Spelled out field by field: every list checks every entry, and reading
 * properties by name from an array of names is several times slower.
 */
export function isEntry(v: unknown): v is SessionSummary {
  if (typeof v !== "object" || v === null) return false;
  const o = v as Record<keyof SessionSummary, unknown>;
  return (
    typeof o.id === "string" &&
    typeof o.key === "string" &&
    typeof o.channel === "string" &&
    typeof o.createdAt === "string" &&
    typeof o.updatedAt === "string" &&
    typeof o.lastActivityAt === "string" &&
    isCount(o.messageCount) &&
    isCount(o.tokens) &&
    isCount(o.revision) &&
    isCount(o.sizeBytes) &&
    isInstantOrNull(o.expiredAt) &&
    isInstantOrNull(o.archivedAt) &&
    (SESSION_KINDS as readonly unknown[]).includes(o.kind) &&
    (SESSION_STATUSES as readonly unknown[]).includes(o.status)
  );
}

/** Entries of a snapshot document, or undefined when it is not one. */
export function snapshotEntries(v: unknown): SessionSummary[] | undefined {
  if (typeof v !== "object" || v === null) return undefined;
  const o = v as Record<string, unknown>;
  // Format 2 keeps format 1's shape, ordered and counted for reading from the head.
  if ((o.version !== 1 && o.version !== 2) || !Array.isArray(o.entries)) return undefined;
  return o.entries.every(isEntry) ? (o.entries as SessionSummary[]) : undefined;
}

/** The optional fields of a line; an unknown reason (a newer writer's) is dropped rather than failing the line. */
function metaOf(o: Record<string, unknown>): OpMeta {
  const meta: OpMeta = {};
  if (typeof o.r === "string" && Object.hasOwn(REASONS, o.r)) meta.r = o.r as ChangeReason;
  if (typeof o.w === "string") meta.w = o.w;
  return meta;
}

/** The `ps` field of a line, when it is a status or null. */
function previousOf(o: Record<string, unknown>): { ps?: SessionStatus | null } {
  if (o.ps === null) return { ps: null };
  return typeof o.ps === "string" && (SESSION_STATUSES as readonly string[]).includes(o.ps) ? { ps: o.ps as SessionStatus } : {};
}

/** A journal operation, or undefined when the line is not one. */
function asOp(v: unknown): Op | undefined {
  if (typeof v !== "object" || v === null) return undefined;
  const o = v as Record<string, unknown>;
  if (o.op === "put" && isEntry(o.s)) return { op: "put", s: o.s, ...metaOf(o), ...previousOf(o) };
  if (o.op === "del" && typeof o.id === "string") return { op: "del", id: o.id, ...(typeof o.k === "string" ? { k: o.k } : {}), ...metaOf(o), ...previousOf(o) };
  return undefined;
}

/** The journal text of `ops`, one JSON line each. */
export function opLines(ops: readonly Op[]): string {
  return ops.map((op) => `${JSON.stringify(op)}\n`).join("");
}

/**
 * Parses journal lines. Any torn or invalid line means a crash mid-append:
 * undefined, so the caller rebuilds rather than trusting the rest.
 */
export function parseOps(file: FileRead): Op[] | undefined {
  const text = file.data.toString("utf8");
  if (text.length > 0 && !text.endsWith("\n")) return undefined;
  return parseLines(text);
}

/** Parses newline-terminated journal text; undefined when any line is not an operation. */
export function parseLines(text: string): Op[] | undefined {
  const ops: Op[] = [];
  for (const line of text.split("\n")) {
    if (line === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      return undefined;
    }
    const op = asOp(value);
    if (op === undefined) return undefined;
    ops.push(op);
  }
  return ops;
}

/** What identifies one version of a file: a rename changes the inode, an append the size. */
export interface FileKey {
  ino: number;
  size: number;
  mtimeMs: number;
}

/** The identity of the file at `path` (not followed if a symlink); undefined when absent. */
export async function keyOf(path: string): Promise<FileKey | undefined> {
  try {
    const st = await lstat(path);
    return { ino: st.ino, size: st.size, mtimeMs: st.mtimeMs };
  } catch (err) {
    if (errnoOf(err) === "ENOENT") return undefined;
    throw storageError("inspect", path, err);
  }
}

/** True when both are absent or both name the same version of a file. */
export function sameKey(a: FileKey | undefined, b: FileKey | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs;
}
