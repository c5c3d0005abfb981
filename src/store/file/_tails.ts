import { toSummary } from "../../session/lifecycle.js";
import type { SessionSummary } from "../../session/types.js";
import { conflictError } from "../_document.js";
import type { SessionLog, Stored } from "./_checkpoint.js";
import type { DocumentFiles } from "./_documents.js";
import type { LogRecord } from "./_log-format.js";
import type { IndexWatcher } from "./_watch.js";

/**
 * What an append's log record needs of the session it extends beyond the
 * delta: its summary (key, kind, channel, counts…) and its last message id.
 */
export interface Tail {
  /** The stored revision and size this is true of (see SessionLog.stored). */
  revision: number;
  size: number;
  summary: SessionSummary;
  /** Id of the last message, null when there is none. */
  last: string | null;
}

/** Most sessions whose tail is remembered; the least recently appended is forgotten first. */
const CAPACITY = 4096;

/**
 * The tails of the sessions this instance appended to, so the next append
 * builds its record from the delta alone. A tail is used only while the
 * stored revision and size are still the ones it was taken at; otherwise the
 * document is read once (see {@link tailOf}).
 */
export class Tails {
  private readonly map = new Map<string, Tail>();

  /** The remembered tail of `id` when it is true of `stored`. */
  get(id: string, stored: { revision: number; size: number }): Tail | undefined {
    const tail = this.map.get(id);
    if (tail === undefined) return undefined;
    if (tail.revision === stored.revision && tail.size === stored.size) return tail;
    this.map.delete(id);
    return undefined;
  }

  set(id: string, tail: Tail): void {
    this.map.delete(id);
    this.map.set(id, tail);
    if (this.map.size > CAPACITY) {
      const oldest = this.map.keys().next().value;
      if (oldest !== undefined) this.map.delete(oldest);
    }
  }

  drop(id: string): void {
    this.map.delete(id);
  }
}

/**
 * The tail read from the document and its log records, when none remembered
 * is current (the first append after opening, or after another process
 * wrote): CONFLICT when they are not at the `stored` revision.
 */
export async function readTail(log: SessionLog, docs: DocumentFiles, id: string, stored: Stored): Promise<Tail> {
  log.reader.catchUp();
  const r = await docs.read(id);
  const doc = r.state === "ok" ? log.current(r.session).session : undefined;
  if (doc?.revision !== stored.revision) throw conflictError(id, doc?.revision ?? null, stored.revision);
  return { revision: stored.revision, size: stored.size, summary: toSummary(doc, stored.size), last: doc.messages.at(-1)?.id ?? null };
}

/**
 * Writes `record` to the log (durable when this resolves), noted as this
 * instance's own change for its watcher, and remembers the session's tail
 * after it (`last`: its last message id) for the next record.
 */
export async function writeRecord(parts: { log: SessionLog; tails: Tails; watcher: IndexWatcher }, record: LogRecord, last: string | null): Promise<void> {
  const { id, rev: revision } = record;
  parts.watcher.noteOwn(id, revision);
  try {
    await parts.log.append(record);
  } finally {
    parts.watcher.ownDone(id, revision);
  }
  const after = await parts.log.stored(id);
  if (after !== null) parts.tails.set(id, { revision, size: after.size, summary: record.s, last });
}
