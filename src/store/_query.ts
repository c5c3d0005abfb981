import { OpenclawError } from "../errors.js";
import { effectiveStatus } from "../session/lifecycle.js";
import type { SessionSummary } from "../session/types.js";
import type { ListPage, ListQuery } from "./store.js";

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
 * Filters, orders and pages index entries the same way for every backend, so
 * the conformance suite pins one behaviour. Returned summaries are copies
 * carrying the effective status.
 */
export function applyListQuery(entries: Iterable<SessionSummary>, query: ListQuery = {}): ListPage {
  validateListQuery(query);
  const cutoff = query.expiryCutoff ?? null;
  const since = query.activeSince === undefined ? null : Date.parse(query.activeSince);
  const statuses = query.statuses === undefined ? null : new Set(query.statuses);
  const kinds = query.kinds === undefined ? null : new Set(query.kinds);
  const matches: { s: SessionSummary; at: number }[] = [];
  for (const entry of entries) {
    if (kinds !== null && !kinds.has(entry.kind)) continue;
    if (query.channel !== undefined && entry.channel !== query.channel) continue;
    if (query.key !== undefined && entry.key !== query.key) continue;
    const at = Date.parse(entry.lastActivityAt);
    if (since !== null && at < since) continue;
    const status = effectiveStatus(entry, cutoff);
    if (statuses !== null && !statuses.has(status)) continue;
    matches.push({ s: { ...entry, status }, at });
  }
  // ISO strings with different offsets do not sort lexically, hence the parsed instant.
  matches.sort((a, b) => b.at - a.at || (a.s.id < b.s.id ? 1 : a.s.id > b.s.id ? -1 : 0));
  const offset = query.offset ?? 0;
  const end = query.limit === undefined ? undefined : offset + query.limit;
  return { items: matches.slice(offset, end).map((m) => m.s), total: matches.length };
}
