import { assertValidId } from "../../session/ids.js";
import { toSummary } from "../../session/lifecycle.js";
import type { Message, Session } from "../../session/types.js";
import { conflictError, prepareDocument, prepareMessages } from "../_document.js";
import { KeyedMutex } from "../_mutex.js";
import { applyListQuery, validateListQuery } from "../_query.js";
import type { ListPage, ListQuery, Loaded, MaintenanceReport, SessionStore } from "../store.js";

/**
 * In-process store with the same observable rules as the file backend
 * (validation, revision checks, locking order), for tests and ephemeral use.
 * Nothing is shared with callers: documents are copied in and out.
 */
export class MemoryStore implements SessionStore {
  /** Backend name. */
  readonly kind = "memory";
  private readonly docs = new Map<string, Session>();
  private readonly pruned = new Map<string, Message[]>();
  private readonly mutex = new KeyedMutex();

  /** Loads a copy of the session; undefined when absent. */
  async get(id: string): Promise<Loaded | undefined> {
    assertValidId(id);
    const doc = this.docs.get(id);
    return doc === undefined ? undefined : { session: structuredClone(doc), sizeBytes: 0 };
  }

  /** Saves a copy at `expectedRevision + 1` (1 when new); CONFLICT when the stored revision differs. */
  async put(session: Session, expectedRevision: number | null): Promise<Session> {
    assertValidId(session.id);
    const doc = await prepareDocument(session, expectedRevision === null ? 1 : expectedRevision + 1);
    // No await between check and set, so the check cannot race another put.
    const stored = this.docs.get(doc.id)?.revision ?? null;
    if (stored !== expectedRevision) throw conflictError(doc.id, stored, expectedRevision);
    this.docs.set(doc.id, doc);
    return structuredClone(doc);
  }

  /** Removes the session and its pruned log; false when it did not exist. */
  async delete(id: string): Promise<boolean> {
    assertValidId(id);
    this.pruned.delete(id);
    return this.docs.delete(id);
  }

  /** Lists summaries (effective statuses, newest activity first). */
  async list(query: ListQuery = {}): Promise<ListPage> {
    validateListQuery(query);
    const summaries = [...this.docs.values()].map((doc) => toSummary(doc, 0));
    return applyListQuery(summaries, query);
  }

  /** Appends copies of `messages` to the session's pruned log. */
  async appendPruned(id: string, messages: readonly Message[]): Promise<void> {
    assertValidId(id);
    const copies = await prepareMessages(id, messages);
    if (copies.length === 0) return;
    const log = this.pruned.get(id) ?? [];
    log.push(...copies);
    this.pruned.set(id, log);
  }

  /** Returns a copy of the pruned log, oldest first. */
  async readPruned(id: string): Promise<Message[]> {
    assertValidId(id);
    return structuredClone(this.pruned.get(id) ?? []);
  }

  /** Replaces the pruned log with copies of `messages`. */
  async replacePruned(id: string, messages: readonly Message[]): Promise<void> {
    assertValidId(id);
    const copies = await prepareMessages(id, messages);
    if (copies.length === 0) this.pruned.delete(id);
    else this.pruned.set(id, copies);
  }

  /** Runs `fn` exclusively for `id` in this process, callers in arrival order; re-entrant. */
  async withLock<T>(id: string, fn: () => Promise<T>): Promise<T> {
    assertValidId(id);
    if (this.mutex.holds(id)) return fn();
    return this.mutex.run(id, fn);
  }

  /** Nothing to repair in memory; reports no work. */
  async maintain(_options?: { dryRun?: boolean }): Promise<MaintenanceReport> {
    return { leftoversRemoved: 0, indexRebuilt: false, quarantined: [] };
  }

  /** Always 0: nothing is on disk. */
  async sizeOnDisk(): Promise<number> {
    return 0;
  }

  /** Nothing to release. */
  async close(): Promise<void> {}
}
