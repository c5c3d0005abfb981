import type { SessionSummary } from "../../session/types.js";
import type { Fresh } from "./_activity-index.js";
import type { DocumentFiles } from "./_documents.js";
import type { LogReader } from "./_log-reader.js";

/**
 * The summary `entry` stands at counting the log records that continue it,
 * or `entry` itself when none do. Records never bring back a session the
 * index does not have: appends only follow a document that exists.
 */
export function withRecords(entry: SessionSummary, reader: LogReader): SessionSummary {
  let revision = entry.revision;
  let out = entry;
  for (const p of reader.after(entry.id, revision)) {
    if (p.record.base !== revision) continue;
    revision = p.record.rev;
    out = p.record.s;
  }
  return out;
}

/** The index's summaries with the log records not yet checkpointed applied (a copy when anything changes). */
export function overlay(entries: SessionSummary[], reader: LogReader): SessionSummary[] {
  const ids = reader.sessionsWithRecords();
  if (ids.length === 0) return entries;
  const wanted = new Set(ids);
  return entries.map((e) => (wanted.has(e.id) ? withRecords(e, reader) : e));
}

/**
 * What the log adds to the index for a head-read page: for each session with
 * records beyond its document, its summary now and the status its document
 * (so the index) has.
 */
export async function pendingFresh(reader: LogReader, docs: DocumentFiles): Promise<Map<string, Fresh>> {
  reader.catchUp();
  const out = new Map<string, Fresh>();
  for (const id of reader.sessionsWithRecords()) {
    const head = await docs.head(id);
    if (head === null) continue;
    let revision = head.revision;
    let last: SessionSummary | undefined;
    for (const p of reader.after(id, revision)) {
      if (p.record.base !== revision) continue;
      revision = p.record.rev;
      last = p.record.s;
    }
    if (last !== undefined) out.set(id, { s: last, ps: head.status });
  }
  return out;
}
