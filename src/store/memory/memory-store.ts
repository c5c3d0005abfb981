import { assertValidId } from "../../session/ids.js";
import { effectiveStatus, toSummary } from "../../session/lifecycle.js";
import type { Message, Session, SessionSummary } from "../../session/types.js";
import { appendUnique, closedError, conflictError, inferReason, prepareAppend, prepareDocument, prepareMessages } from "../_document.js";
import { KeyedMutex } from "../_mutex.js";
import { LeaseWakeups, RecordLeases, type LeaseRecord } from "../lease.js";
import { applyListQuery, countSummaries, matchIdPrefix, validateListQuery } from "../_query.js";
import type {
  Appended,
  Commit,
  HeaderChange,
  HeldLock,
  ListPage,
  ListQuery,
  Loaded,
  LockingStore,
  MaintenanceReport,
  PrunedChange,
  SessionStore,
  StoreChange,
  StoreDescription,
  StoreStats,
  TurnLeases,
} from "../store.js";

interface Listener {
  owner: MemoryStore;
  fn: (change: StoreChange) => void;
}

/**
 * The data behind one or more {@link MemoryStore} instances. Instances opened
 * on the same data behave like processes sharing one store: they see each
 * other's writes, share locks, and are told of each other's changes.
 */
export class MemoryData {
  /** Documents by id. */
  readonly docs = new Map<string, Session>();
  /** Serialized size of each document. */
  readonly sizes = new Map<string, number>();
  /** Pruned-history logs by id. */
  readonly pruned = new Map<string, Message[]>();
  /** Locks shared by every instance, like a cross-process lock. */
  readonly mutex = new KeyedMutex();
  /** Change listeners of every instance. */
  readonly listeners = new Set<Listener>();
  /** Turn leases by session id, shared like the locks. */
  readonly leases = new Map<string, LeaseRecord>();
  /** Wakes a lease's waiters in every instance when it is released. */
  readonly leaseWakeups = new LeaseWakeups();
}

/**
 * In-process store with the same observable rules as the file backend
 * (validation, revision checks, locking order), for tests and ephemeral use.
 * Nothing is shared with callers: documents are copied in and out. It locks
 * (across the instances on its data); it has nothing at rest to encrypt.
 */
export class MemoryStore implements SessionStore, LockingStore {
  /** Backend name. */
  readonly kind = "memory";
  private closed = false;

  /** Turn leases in the shared data, so instances on it exclude each other like processes. */
  readonly turnLeases: TurnLeases;

  /** Opens an instance on `data` (fresh, unshared data by default). */
  constructor(private readonly data: MemoryData = new MemoryData()) {
    this.turnLeases = new RecordLeases(
      async (id, fn) => {
        this.open();
        const { next, result } = fn(data.leases.get(id), Date.now());
        if (next === null) data.leases.delete(id);
        else if (next !== undefined) data.leases.set(id, next);
        return result;
      },
      data.leaseWakeups,
      (id) => void assertValidId(id),
    );
  }

  /** Loads a copy of the session; undefined when absent. */
  async get(id: string): Promise<Loaded | undefined> {
    this.open();
    assertValidId(id);
    const doc = this.data.docs.get(id);
    return doc === undefined ? undefined : { session: structuredClone(doc), sizeBytes: this.data.sizes.get(id) ?? 0 };
  }

  /** Saves the document and its pruned change together; CONFLICT when the stored revision differs. */
  async commit(change: Commit): Promise<Session> {
    this.open();
    const { session, expectedRevision } = change;
    assertValidId(session.id);
    const doc = await prepareDocument(session, expectedRevision === null ? 1 : expectedRevision + 1);
    const p = change.pruned;
    const pruned: PrunedChange | undefined = p === undefined ? undefined : "append" in p ? { append: prepareMessages(doc.id, p.append) } : { replace: prepareMessages(doc.id, p.replace) };
    // No await between the check and the writes, so nothing can interleave.
    this.checkRevision(doc.id, expectedRevision);
    const before = this.data.docs.get(doc.id);
    const reason = change.reason ?? inferReason(before === undefined ? undefined : { status: before.status, messageCount: before.messages.length }, { status: doc.status, messageCount: doc.messages.length });
    if (pruned !== undefined) {
      const next = "append" in pruned ? appendUnique(this.data.pruned.get(doc.id) ?? [], pruned.append) : [...pruned.replace];
      if (next.length === 0) this.data.pruned.delete(doc.id);
      else this.data.pruned.set(doc.id, next);
    }
    this.store(doc);
    this.notify({ id: doc.id, key: doc.key, revision: doc.revision, reason });
    return structuredClone(doc);
  }

  /**
   * Appends messages: only the header change and the new messages are
   * validated and copied in; the stored history grows in place (it is this
   * store's own, never handed out), so an append costs its own size, not the
   * history's. Same revision rule as commit.
   */
  async appendMessages(id: string, baseRevision: number, header: HeaderChange, messages: readonly Message[], _held?: HeldLock): Promise<Appended> {
    this.open();
    const delta = prepareAppend(id, header, messages);
    // No await between the check and the writes, so nothing can interleave.
    this.checkRevision(id, baseRevision);
    const stored = this.data.docs.get(id) as Session;
    const revision = baseRevision + 1;
    const history = stored.messages;
    for (const m of delta.messages) history.push(m);
    const doc: Session = { ...stored, ...delta.header, participants: [...delta.header.participants], revision, messages: history };
    this.data.docs.set(id, doc);
    this.data.sizes.set(id, (this.data.sizes.get(id) ?? 0) + Buffer.byteLength(JSON.stringify(delta.messages), "utf8"));
    this.notify({ id, key: doc.key, revision, reason: "appended" });
    return { revision };
  }

  /** Removes the session and its pruned log; false when it did not exist. */
  async delete(id: string, _held?: HeldLock, expectedRevision?: number): Promise<boolean> {
    this.open();
    assertValidId(id);
    const doc = this.data.docs.get(id);
    if (expectedRevision !== undefined && doc?.revision !== expectedRevision) return false;
    this.data.pruned.delete(id);
    this.data.sizes.delete(id);
    const existed = this.data.docs.delete(id);
    if (existed) this.notify({ id, key: doc?.key ?? "", revision: 0, reason: "deleted" });
    return existed;
  }

  /** Lists summaries (effective statuses, newest activity first). */
  async list(query: ListQuery = {}): Promise<ListPage> {
    this.open();
    validateListQuery(query);
    return applyListQuery(this.summaries(), query);
  }

  /** Returns a copy of the pruned log, oldest first. */
  async readPruned(id: string): Promise<Message[]> {
    this.open();
    assertValidId(id);
    return structuredClone(this.data.pruned.get(id) ?? []);
  }

  /** Runs `fn` exclusively for `id` across every instance on this data, callers in arrival order (writes here never wait for the lock, so the hold needs no checking). */
  async withLock<T>(id: string, fn: (held: HeldLock) => Promise<T>, signal?: AbortSignal): Promise<T> {
    this.open();
    assertValidId(id);
    return this.data.mutex.run(id, () => fn(Object.freeze({ id })), signal);
  }

  /** Delivers changes made through other instances on the same data. */
  watch(listener: (change: StoreChange) => void): () => void {
    this.open();
    const entry: Listener = { owner: this, fn: listener };
    this.data.listeners.add(entry);
    return () => {
      this.data.listeners.delete(entry);
    };
  }

  /** Counts by effective status and kind. */
  async stats(expiryCutoff: string | null): Promise<StoreStats> {
    this.open();
    return countSummaries(this.summaries(), expiryCutoff);
  }

  /** Summaries whose id starts with `prefix`. */
  async findByIdPrefix(prefix: string, limit: number): Promise<SessionSummary[]> {
    this.open();
    return matchIdPrefix(this.summaries(), prefix, limit);
  }

  /** The stored revision, or null. */
  async revisionOf(id: string): Promise<number | null> {
    this.open();
    assertValidId(id);
    return this.data.docs.get(id)?.revision ?? null;
  }

  /** The key's live session, created (synchronously after the check) when there is none. */
  async findOrCreateLive(key: string, expiryCutoff: string | null, create: () => Session | Promise<Session>): Promise<{ session: Session; created: boolean }> {
    this.open();
    const live = this.live(key, expiryCutoff);
    if (live !== undefined) return { session: structuredClone(live), created: false };
    const doc = await prepareDocument(await create(), 1);
    // Checked again after the awaits: another caller may have created it meanwhile.
    const raced = this.live(key, expiryCutoff);
    if (raced !== undefined) return { session: structuredClone(raced), created: false };
    this.checkRevision(doc.id, null);
    this.store(doc);
    this.notify({ id: doc.id, key: doc.key, revision: doc.revision, reason: "created" });
    return { session: structuredClone(doc), created: true };
  }

  /** Where the data lives: this process's memory. */
  async describe(): Promise<StoreDescription> {
    this.open();
    return { backend: this.kind, location: "memory:" };
  }

  /** Nothing to repair or rebuild: an empty report. */
  async maintain(_options: { dryRun?: boolean } = {}): Promise<MaintenanceReport> {
    this.open();
    return { leftoversRemoved: 0, indexRebuilt: false, quarantined: [] };
  }

  /** Bytes of the stored documents as JSON (the sizes list reports) plus the pruned logs. */
  async sizeOnDisk(): Promise<number> {
    this.open();
    let total = 0;
    for (const n of this.data.sizes.values()) total += n;
    for (const log of this.data.pruned.values()) total += Buffer.byteLength(JSON.stringify(log), "utf8");
    return total;
  }

  /** Always true: a session is ruled out of a search only by reading it, which is what a search does next. */
  async mayContain(id: string, _text: string, _pruned: boolean): Promise<boolean> {
    this.open();
    assertValidId(id);
    return true;
  }

  /** Stops this instance; later calls reject with CLOSED. */
  async close(): Promise<void> {
    this.closed = true;
    for (const l of [...this.data.listeners]) if (l.owner === this) this.data.listeners.delete(l);
  }

  private live(key: string, cutoff: string | null): Session | undefined {
    let best: Session | undefined;
    for (const doc of this.data.docs.values()) {
      if (doc.key !== key) continue;
      const status = effectiveStatus(doc, cutoff);
      if (status !== "created" && status !== "active") continue;
      if (best === undefined || doc.id > best.id) best = doc;
    }
    return best;
  }

  private checkRevision(id: string, expected: number | null): void {
    const stored = this.data.docs.get(id)?.revision ?? null;
    if (stored !== expected) throw conflictError(id, stored, expected);
  }

  private store(doc: Session): void {
    this.data.docs.set(doc.id, doc);
    this.data.sizes.set(doc.id, Buffer.byteLength(JSON.stringify(doc), "utf8"));
  }

  private summaries(): SessionSummary[] {
    return [...this.data.docs.values()].map((doc) => toSummary(doc, this.data.sizes.get(doc.id) ?? 0));
  }

  private notify(change: StoreChange): void {
    for (const l of this.data.listeners) {
      if (l.owner === this) continue;
      try {
        l.fn({ ...change });
      } catch {
        // A listener's failure is its own; the write has happened.
      }
    }
  }

  private open(): void {
    if (this.closed) throw closedError(this.kind);
  }
}
