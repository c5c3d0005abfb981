import { OpenclawError } from "../errors.js";
import type { SessionStatus, SessionSummary } from "../session/types.js";
import type { ListPage, ListQuery, StoreStats } from "./store.js";

function assertInstant(name: string, value: string | null | undefined): void {
  if (value === undefined || value === null) return;
  if (Number.isNaN(Date.parse(value))) {
    throw new OpenclawError("INVALID_ARGUMENT", `list query: ${name} ${JSON.stringify(value)} is not an ISO date-time`);
  }
}

function assertCount(name: string, value: number | undefined): void {
  if (value === undefined) return;
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new OpenclawError("INVALID_ARGUMENT", `list query: ${name} must be a non-negative integer, got ${String(value)}`);
  }
}

/** Throws INVALID_ARGUMENT for a query no backend could answer (bad dates, negative paging). */
export function validateListQuery(query: ListQuery): void {
  assertInstant("activeSince", query.activeSince);
  assertInstant("expiryCutoff", query.expiryCutoff);
  assertCount("offset", query.offset);
  assertCount("limit", query.limit);
}

/**
 * The matches of a list, as positions into `entries` with their parsed
 * activity instants alongside: a store of 100k sessions would otherwise
 * allocate 100k wrapper objects per list.
 */
class Matches {
  readonly positions: number[] = [];
  constructor(
    readonly entries: readonly SessionSummary[],
    readonly at: Float64Array,
  ) {}

  /** Newest activity first; equal instants by id, descending, so the order is total. */
  readonly newerFirst = (a: number, b: number): number => {
    const d = (this.at[b] as number) - (this.at[a] as number);
    if (d !== 0 && !Number.isNaN(d)) return d;
    const x = (this.entries[a] as SessionSummary).id;
    const y = (this.entries[b] as SessionSummary).id;
    return x < y ? 1 : x > y ? -1 : 0;
  };

  /** The first `k` positions in list order. */
  firstK(k: number): number[] {
    const all = this.positions;
    if (k <= 0) return [];
    if (k * 8 >= all.length) return all.sort(this.newerFirst).slice(0, k);
    // A page is usually a few dozen rows of many thousands: select them in
    // one pass against the worst one kept instead of sorting everything.
    const kept: number[] = [];
    for (const p of all) {
      if (kept.length === k) {
        if (this.newerFirst(p, kept[k - 1] as number) >= 0) continue;
        kept.pop();
      }
      let lo = 0;
      let hi = kept.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (this.newerFirst(kept[mid] as number, p) <= 0) lo = mid + 1;
        else hi = mid;
      }
      kept.splice(lo, 0, p);
    }
    return kept;
  }
}

/**
 * Filters, orders and pages index entries the same way for every backend, so
 * the conformance suite pins one behaviour. Returned summaries are copies
 * carrying the effective status.
 */
export function applyListQuery(source: Iterable<SessionSummary>, query: ListQuery = {}): ListPage {
  validateListQuery(query);
  const entries = Array.isArray(source) ? (source as SessionSummary[]) : [...source];
  const cutoff = query.expiryCutoff ?? null;
  const cutoffMs = cutoff === null ? null : Date.parse(cutoff);
  const since = query.activeSince === undefined ? null : Date.parse(query.activeSince);
  const statuses = query.statuses === undefined ? null : new Set(query.statuses);
  const kinds = query.kinds === undefined ? null : new Set(query.kinds);
  const m = new Matches(entries, new Float64Array(entries.length));
  const status = new Array<SessionStatus>(entries.length);
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i] as SessionSummary;
    if (kinds !== null && !kinds.has(entry.kind)) continue;
    if (query.channel !== undefined && entry.channel !== query.channel) continue;
    if (query.key !== undefined && entry.key !== query.key) continue;
    // ISO strings with different offsets do not sort lexically, hence the parsed instant.
    const at = Date.parse(entry.lastActivityAt);
    if (since !== null && at < since) continue;
    // effectiveStatus, with the cutoff parsed once for the whole list.
    const s: SessionStatus = (entry.status === "active" || entry.status === "created") && cutoffMs !== null && at < cutoffMs ? "expired" : entry.status;
    if (statuses !== null && !statuses.has(s)) continue;
    m.at[i] = at;
    status[i] = s;
    m.positions.push(i);
  }
  const offset = query.offset ?? 0;
  const page = query.limit === undefined ? m.positions.sort(m.newerFirst).slice(offset) : m.firstK(offset + query.limit).slice(offset);
  return { items: page.map((i) => ({ ...(entries[i] as SessionSummary), status: status[i] as SessionStatus })), total: m.positions.length };
}

/** Store-wide counts by effective status and kind, from summaries (one pass, no sorting). */
export function countSummaries(source: Iterable<SessionSummary>, expiryCutoff: string | null): StoreStats {
  const cutoffMs = expiryCutoff === null ? null : Date.parse(expiryCutoff);
  const stats: StoreStats = { total: 0, byStatus: { created: 0, active: 0, expired: 0, archived: 0 }, byKind: { dm: 0, group: 0, isolated: 0 } };
  for (const e of source) {
    const s: SessionStatus = (e.status === "active" || e.status === "created") && cutoffMs !== null && Date.parse(e.lastActivityAt) < cutoffMs ? "expired" : e.status;
    stats.total++;
    stats.byStatus[s]++;
    stats.byKind[e.kind]++;
  }
  return stats;
}

/** Summaries whose id starts with `prefix`, at most `limit`, in id order. */
export function matchIdPrefix(source: Iterable<SessionSummary>, prefix: string, limit: number): SessionSummary[] {
  const out: SessionSummary[] = [];
  for (const e of source) if (e.id.startsWith(prefix)) out.push({ ...e });
  out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return out.slice(0, limit);
}
