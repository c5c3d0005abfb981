import type { FileHandle } from "node:fs/promises";
import { open } from "node:fs/promises";
import type { SessionStatus, SessionSummary } from "../../session/types.js";
import { SESSION_STATUSES } from "../../session/types.js";
import type { ListQuery } from "../store.js";
import { ignoreMissing } from "./_fs.js";
import type { Op } from "./_index-format.js";
import { isEntry } from "./_index-format.js";

// The snapshot (index.json, format 2) is one JSON document laid out for
// reading from its head: the first line holds the format, the count by
// status and the opening of the entries array; every entry is on its own
// line, newest activity first. A page of the default list reads lines until
// it has enough, whatever the store's size; the counts give the total.

/** Counts by stored status, as the snapshot header keeps them. */
export type StatusCounts = Record<SessionStatus, number>;

/** Newest activity first, equal instants by id descending: the order every list returns. */
export function activityOrder(a: SessionSummary, b: SessionSummary): number {
  const d = Date.parse(b.lastActivityAt) - Date.parse(a.lastActivityAt);
  if (d !== 0 && !Number.isNaN(d)) return d;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

/** The snapshot text of `entries`: header line, then one entry per line in activity order. */
export function snapshotText(entries: Iterable<SessionSummary>): string {
  const sorted = [...entries].sort(activityOrder);
  const byStatus = Object.fromEntries(SESSION_STATUSES.map((s) => [s, 0])) as StatusCounts;
  for (const e of sorted) byStatus[e.status]++;
  const head = `{"version":2,"count":${sorted.length},"byStatus":${JSON.stringify(byStatus)},"entries":[\n`;
  return head + sorted.map((e) => JSON.stringify(e)).join(",\n") + "\n]}\n";
}

/** The statuses a head-read page can count without reading everything: all, or all but archived (the default list). */
function countable(query: ListQuery): ((s: SessionStatus | null) => number) | undefined {
  if (query.key !== undefined || query.channel !== undefined || query.kinds !== undefined || query.activeSince !== undefined) return undefined;
  if (query.statuses === undefined) return (s) => (s === null ? 0 : 1);
  const set = new Set(query.statuses);
  // Expiry moves sessions between created/active and expired, never in or out of this union.
  if (set.size === 3 && set.has("created") && set.has("active") && set.has("expired")) return (s) => (s === null || s === "archived" ? 0 : 1);
  return undefined;
}

/** A change not yet in the snapshot: the summary now (null: deleted) and the status it had in the snapshot (null: not in it). */
export interface Fresh {
  s: SessionSummary | null;
  ps: SessionStatus | null;
}

/** Folds journal operations into `fresh`; false when a line lacks the status it replaced (an older writer, a repair), so counts cannot be corrected. */
export function freshFromJournal(ops: readonly Op[], fresh: Map<string, Fresh>): boolean {
  for (const op of ops) {
    if (op.ps === undefined) return false;
    const id = op.op === "put" ? op.s.id : op.id;
    const before = fresh.get(id);
    fresh.set(id, { s: op.op === "put" ? op.s : null, ps: before === undefined ? op.ps : before.ps });
  }
  return true;
}

const CHUNK = 64 * 1024;

/**
 * The first `want` summaries matching the default filters, merged from the
 * snapshot's head and `fresh`, and the total; undefined when the query or
 * the snapshot does not allow it (the caller then reads everything).
 */
export async function headPage(path: string, query: ListQuery, want: number, fresh: Map<string, Fresh>): Promise<{ candidates: SessionSummary[]; total: number } | undefined> {
  const counts = countable(query);
  if (counts === undefined) return undefined;
  const matches = (s: SessionSummary) => counts(s.status) === 1;
  let fh: FileHandle | undefined;
  try {
    fh = await open(path, "r").catch(ignoreMissing);
    if (fh === undefined) return undefined;
    const taken: SessionSummary[] = [];
    let total: number | undefined;
    let rest = "";
    let position = 0;
    let done = false;
    while (!done && taken.length < want) {
      const buf = Buffer.allocUnsafe(CHUNK);
      const { bytesRead } = await fh.read(buf, 0, CHUNK, position);
      position += bytesRead;
      if (bytesRead === 0) break;
      const lines = (rest + buf.toString("utf8", 0, bytesRead)).split("\n");
      rest = lines.pop() ?? "";
      for (const raw of lines) {
        if (total === undefined) {
          total = headerTotal(raw, counts);
          if (total === undefined) return undefined;
          continue;
        }
        if (raw.startsWith("]")) {
          done = true;
          break;
        }
        let entry: unknown;
        try {
          entry = JSON.parse(raw.endsWith(",") ? raw.slice(0, -1) : raw);
        } catch {
          return undefined;
        }
        if (!isEntry(entry)) return undefined;
        if (fresh.has(entry.id) || !matches(entry)) continue;
        taken.push(entry);
        if (taken.length >= want) break;
      }
    }
    if (total === undefined) return undefined;
    for (const f of fresh.values()) total += counts(f.s?.status ?? null) - counts(f.ps);
    const merged = taken;
    for (const f of fresh.values()) if (f.s !== null && matches(f.s)) merged.push(f.s);
    return { candidates: merged.sort(activityOrder).slice(0, want), total };
  } finally {
    await fh?.close().catch(() => undefined);
  }
}

function headerTotal(line: string, counts: (s: SessionStatus | null) => number): number | undefined {
  if (!line.startsWith('{"version":2,') || !line.endsWith('"entries":[')) return undefined;
  let header: unknown;
  try {
    header = JSON.parse(`${line}]}`);
  } catch {
    return undefined;
  }
  const by = (header as { byStatus?: Record<string, unknown> }).byStatus;
  if (typeof by !== "object" || by === null) return undefined;
  let total = 0;
  for (const s of SESSION_STATUSES) {
    const n = by[s];
    if (typeof n !== "number") return undefined;
    total += n * counts(s);
  }
  return total;
}
