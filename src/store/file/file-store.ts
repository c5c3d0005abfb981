import { randomBytes } from "node:crypto";
import { OpenclawError } from "../../errors.js";
import { assertValidId, routeLockId } from "../../session/ids.js";
import { toSummary } from "../../session/lifecycle.js";
import type { Message, Session, SessionSummary } from "../../session/types.js";
import { appendUnique, closedError, conflictError, oneLine, prepareAppend, prepareDocument, prepareMessages } from "../_document.js";
import { applyListQuery, countSummaries, matchIdPrefix, validateListQuery } from "../_query.js";
import type {
  Appended,
  Commit,
  EncryptedStore,
  HeaderChange,
  HeldLock,
  ListPage,
  ListQuery,
  Loaded,
  LockingStore,
  MaintenanceReport,
  SessionStore,
  StoreChange,
  StoreDescription,
  StoreStats,
  StoreWarning,
  TurnLeases,
} from "../store.js";
import { turnPath, type LeaseFiles } from "./_leases.js";
import { DocumentFiles } from "./_documents.js";
import { ensureDir, removeFiles } from "./_fs.js";
import type { SessionIndex } from "./_index.js";
import { FileLocks } from "./_lock.js";
import { bytesUnder, maintainFiles } from "./_maintain.js";
import { INDEX_LOCK, Layout } from "./_paths.js";
import { appendPrunedLog, readPrunedLog, replacePrunedLog } from "./_pruned.js";
import { TextProbe } from "./_probe.js";
import { findOrCreateLiveLocked } from "./_routing.js";
import { overlay, pendingFresh } from "./_overlay.js";
import { recordOf } from "./_log-format.js";
import type { KeyFile } from "./_keys.js";
import type { SessionLog } from "./_checkpoint.js";
import { readTail, Tails, writeRecord } from "./_tails.js";
import type { FileStoreOptions } from "./_options.js";
import type { IndexWatcher } from "./_watch.js";
import { SessionLocks } from "./_session-locks.js";
import { wireFileStore } from "./_wiring.js";
import { commitFold } from "./_fold.js";

export type { FileStoreOptions } from "./_options.js";

/**
 * The default backend: one JSON document per session under `<dir>/sessions`,
 * written atomically, guarded by per-session lock files, listed through a
 * derived index that can always be rebuilt from the documents. Appends are
 * records in a store-wide log, group-committed, and checkpointed into the
 * documents shortly after; every read applies the records a document has
 * not absorbed yet.
 */
export class FileStore implements SessionStore, LockingStore, EncryptedStore {
  /** Backend name. */
  readonly kind = "file";
  /** The state directory this store was opened on. */
  readonly dir: string;
  private readonly layout: Layout;
  private readonly warn: StoreWarning;
  /** Sessions' locks: the in-process queue, the lock files, and the holds writes present. */
  private readonly sessionLocks: SessionLocks;
  private readonly locks: FileLocks;
  private readonly docs: DocumentFiles;
  private readonly index: SessionIndex;
  /** Marks this instance's journal lines, so its watcher can skip its own changes. */
  private readonly writer = randomBytes(8).toString("hex");
  private readonly watcher: IndexWatcher;
  private readonly log: SessionLog;
  private initializing: Promise<void> | undefined;
  private closed = false;
  private readonly probe = new TextProbe(
    () => this.log.reader,
    () => this.layout,
  );
  /** Turn leases as `sessions/<id>.turn` files, changed under the session lock. */
  readonly turnLeases: TurnLeases;
  private readonly leaseFiles: LeaseFiles;
  private readonly keys: KeyFile;
  private readonly tails = new Tails();

  constructor(options: FileStoreOptions) {
    const parts = wireFileStore(options, {
      writer: this.writer,
      withLock: (id, fn) => this.withLock(id, fn),
      ready: () => this.ready(),
      indexLocked: (fn) => this.indexLocked(fn),
      runLocked: (id, fn) => this.sessionLocks.queue(id, fn),
    });
    ({ dir: this.dir, layout: this.layout, warn: this.warn, locks: this.locks, keys: this.keys, docs: this.docs, index: this.index, watcher: this.watcher, log: this.log, leaseFiles: this.leaseFiles } = parts);
    this.turnLeases = this.leaseFiles.leases;
    this.sessionLocks = new SessionLocks(this.locks, async () => {
      this.open();
      await this.ready();
    });
  }

  /** Creates the directories (0700) and an empty index if needed; every method awaits it. */
  ready(): Promise<void> {
    this.initializing ??= (async () => {
      // Before anything is created or recovered: a store opened with the wrong key (or none) writes nothing.
      await this.keys.check();
      await ensureDir(this.layout.root, false, true);
      await ensureDir(this.layout.sessions, true);
      await ensureDir(this.layout.quarantine, true);
      await this.index.initialize();
      await this.log.init();
    })().catch((err: unknown) => {
      this.initializing = undefined;
      throw err;
    });
    return this.initializing;
  }

  /** Loads and validates a session (a v1 document comes back upgraded); a corrupt file is quarantined, warned about and reported absent. */
  async get(id: string): Promise<Loaded | undefined> {
    this.open();
    assertValidId(id);
    await this.ready();
    // The log first: a checkpoint between the two reads only makes the document newer, never loses a record.
    this.log.reader.catchUp();
    const r = await this.docs.read(id);
    if (r.state === "ok") {
      const { session, bytes } = this.log.current(r.session);
      return { session, sizeBytes: r.bytes + bytes };
    }
    // A repair, not a change anyone made: recorded without a writer so every watcher hears of it.
    if (r.state === "corrupt" && r.quarantinedAs !== undefined) await this.index.safely(id, () => this.index.recordDelete(id, { r: "deleted" }));
    return undefined;
  }

  /** False only when the session's files certainly hold no `text` and no log record of it is pending (see TextProbeStore). */
  async mayContain(id: string, text: string, pruned: boolean): Promise<boolean> {
    this.open();
    assertValidId(id);
    return this.probe.mayContain(id, text, pruned);
  }

  /**
   * Saves the document at `expectedRevision + 1` with its pruned change,
   * under the session lock; CONFLICT (nothing written) when the stored
   * revision differs. Everything is validated before anything is written.
   */
  async commit(change: Commit): Promise<Session> {
    this.open();
    const { session, expectedRevision } = change;
    assertValidId(session.id);
    const pruned = change.pruned;
    if (change.folds === true && expectedRevision !== null && pruned !== undefined && "append" in pruned) {
      const saved = await commitFold({ log: this.log, docs: this.docs, tails: this.tails, locks: this.sessionLocks, keys: this.keys, watcher: this.watcher }, change, expectedRevision, pruned.append);
      if (saved !== undefined) return saved;
    }
    const doc = await prepareDocument(session, expectedRevision === null ? 1 : expectedRevision + 1);
    const append = pruned !== undefined && "append" in pruned ? prepareMessages(doc.id, pruned.append) : undefined;
    const replace = pruned !== undefined && "replace" in pruned ? prepareMessages(doc.id, pruned.replace) : undefined;
    // Without a reason, none is recorded: a watcher infers it from the summaries it knows.
    const reason = change.reason ?? (expectedRevision === null ? "created" : undefined);
    return this.sessionLocks.within(doc.id, change.held, async () => {
      const before = await this.log.stored(doc.id);
      const stored = before?.revision ?? null;
      if (stored !== expectedRevision) throw conflictError(doc.id, stored, expectedRevision);
      await this.keys.beforeWrite();
      this.log.forget(doc.id);
      this.tails.drop(doc.id);
      // Folded messages go to the log first, flushed: a crash before the document is written leaves them
      // in both places, and the log keeps each id once (export leaves out ids still in the document).
      // Those of fold records not checkpointed yet go first: the document no longer holds them.
      const carried = await this.log.pendingFolded(doc.id, false);
      if (append !== undefined || carried.length > 0) await appendPrunedLog(this.layout.pruned(doc.id), [...carried, ...(append ?? [])], this.docs.codec);
      const bytes = await this.docs.write(doc);
      // The document is past every record of the session, so none applies any more.
      this.log.reader.covered(doc.id, doc.revision);
      // Noted before the journal line exists, so no poll of our own watcher can see the change first.
      this.watcher.noteOwn(doc.id, doc.revision);
      try {
        // A replacement (clear, retention, import) goes after the document:
        // a crash in between keeps the previous log, stale but whole, where
        // replacing it first could destroy history the document still
        // describes as pruned.
        if (replace !== undefined) await replacePrunedLog(this.layout.pruned(doc.id), `${doc.id}.pruned`, replace, this.docs.codec);
      } finally {
        // Forgotten again: a revision check outside the lock may have looked meanwhile. Saved either way, so the index must say so.
        this.log.forget(doc.id);
        await this.index.safely(doc.id, () => this.index.recordPut(toSummary(doc, bytes), { ...(reason !== undefined ? { r: reason } : {}), w: this.writer }, before?.status ?? null));
        this.watcher.ownDone(doc.id, doc.revision);
      }
      return doc;
    });
  }

  /** Removes the document and its pruned log; false when the document did not exist. */
  async delete(id: string, held?: HeldLock, expectedRevision?: number): Promise<boolean> {
    this.open();
    assertValidId(id);
    return this.sessionLocks.within(id, held, async () => {
      if (expectedRevision !== undefined && (await this.revisionOf(id)) !== expectedRevision) return false;
      const key = this.index.cachedKey(id);
      const before = await this.log.stored(id);
      this.log.forget(id);
      this.tails.drop(id);
      const existed = await this.docs.remove(id);
      this.log.forget(id);
      this.log.reader.drop(id);
      // The pruned log and the turn-lease file go with the document (a turn still running loses its lease and stops).
      this.leaseFiles.forget(id);
      await removeFiles([this.layout.pruned(id), turnPath(this.layout, id)], this.layout.sessions);
      if (existed) {
        this.watcher.noteOwn(id, 0);
        await this.index.safely(id, () => this.index.recordDelete(id, { r: "deleted", w: this.writer }, key, before?.status ?? null));
        this.watcher.ownDone(id, 0);
      }
      return existed;
    });
  }

  /** Lists summaries from the index (effective statuses, newest activity first). */
  async list(query: ListQuery = {}): Promise<ListPage> {
    this.open();
    validateListQuery(query);
    await this.ready();
    if (query.key !== undefined) return applyListQuery(await this.entries(query.key), query);
    if (query.limit !== undefined) {
      // A page of the default list reads the activity-ordered index from its head.
      const page = await this.index.page(query, (query.offset ?? 0) + query.limit, await pendingFresh(this.log.reader, this.docs));
      if (page !== undefined) return { items: applyListQuery(page.candidates, query).items, total: page.total };
    }
    return applyListQuery(await this.entries(), query);
  }

  /** Reads the pruned-history log, oldest first, each id once; unreadable lines are skipped with a warning. */
  async readPruned(id: string): Promise<Message[]> {
    this.open();
    assertValidId(id);
    await this.ready();
    // With the messages of folds not checkpointed yet, taken from the log's records first: a checkpoint
    // between the two reads moves them into the file, which is read after (each id is kept once).
    const carried = await this.log.pendingFolded(id, true);
    return appendUnique(await readPrunedLog(this.layout.pruned(id), this.warn, this.docs.codec), carried);
  }

  /**
   * Runs `fn` holding the session's lock across processes. Same-process
   * callers queue in arrival order before touching the lock file; `fn` gets
   * the hold, which commit, appendMessages and delete take to run inside it.
   * `signal` abandons the wait, in the queue or on another process's lock.
   */
  async withLock<T>(id: string, fn: (held: HeldLock) => Promise<T>, signal?: AbortSignal): Promise<T> {
    this.open();
    assertValidId(id);
    return this.sessionLocks.hold(id, fn, signal);
  }

  /** Removes leftovers (old temp files, stale locks) and rebuilds the index; dryRun changes nothing. */
  async maintain(options: { dryRun?: boolean } = {}): Promise<MaintenanceReport> {
    this.open();
    await this.ready();
    if (options.dryRun !== true) await this.log.checkpointAll();
    try {
      return await maintainFiles(this.layout, this.locks, this.index, options.dryRun === true);
    } finally {
      // Maintenance ends a burst of work: leave no lock file behind for whoever looks next.
      this.locks.releaseLeases();
    }
  }

  /** The backend and its state directory, as a `file:` URI. */
  async describe(): Promise<StoreDescription> {
    this.open();
    return { backend: this.kind, location: `file:${this.dir}` };
  }

  /** Bytes of every file under `<dir>/sessions`, quarantine included. */
  async sizeOnDisk(): Promise<number> {
    this.open();
    await this.ready();
    return bytesUnder(this.layout.sessions);
  }

  /** Delivers changes other instances and processes commit, by polling the index every watchIntervalMs while anyone listens. */
  watch(listener: (change: StoreChange) => void): () => void {
    this.open();
    return this.watcher.add(listener);
  }

  /** Counts by effective status and kind, from the index alone. */
  async stats(expiryCutoff: string | null): Promise<StoreStats> {
    this.open();
    validateListQuery({ expiryCutoff });
    await this.ready();
    return countSummaries(await this.entries(), expiryCutoff);
  }

  /** Summaries whose id starts with `prefix`, from the index alone. */
  async findByIdPrefix(prefix: string, limit: number): Promise<SessionSummary[]> {
    this.open();
    await this.ready();
    return matchIdPrefix(await this.entries(), prefix, limit);
  }

  /** The stored revision from the document's first bytes and its log records, or null when absent. */
  async revisionOf(id: string): Promise<number | null> {
    this.open();
    assertValidId(id);
    await this.ready();
    return (await this.log.stored(id))?.revision ?? null;
  }

  /**
   * Appends messages as one log record holding only the delta, durable when
   * this resolves (its flush shared with every append waiting at the same
   * moment), under the session lock; CONFLICT when the stored revision,
   * counting log records, is not `baseRevision`. The document is rewritten
   * by a checkpoint.
   */
  async appendMessages(id: string, baseRevision: number, header: HeaderChange, messages: readonly Message[], held?: HeldLock): Promise<Appended> {
    this.open();
    const delta = prepareAppend(id, header, messages);
    return this.sessionLocks.within(id, held, async () => {
      const stored = await this.log.stored(id);
      if (stored?.revision !== baseRevision) throw conflictError(id, stored?.revision ?? null, baseRevision);
      // The session's summary and last message id, remembered from the last append; read once otherwise.
      const tail = this.tails.get(id, stored) ?? (await readTail(this.log, this.docs, id, stored));
      await this.keys.beforeWrite();
      const revision = baseRevision + 1;
      const record = recordOf(tail, revision, delta.header, delta.messages, stored);
      await writeRecord({ log: this.log, tails: this.tails, watcher: this.watcher }, record, delta.messages.at(-1)?.id ?? tail.last);
      return { revision };
    });
  }

  /** Writes every session's log records into its document now, and removes the segments that empties. */
  async checkpoint(): Promise<void> {
    this.open();
    await this.ready();
    await this.log.checkpointAll();
  }

  /** The key's live session, or `create()` saved at revision 1, under a lock named after the key across processes. */
  async findOrCreateLive(key: string, expiryCutoff: string | null, create: () => Session | Promise<Session>): Promise<{ session: Session; created: boolean }> {
    this.open();
    if (typeof key !== "string" || key === "") throw new OpenclawError("INVALID_ARGUMENT", "a routing key is required to find its live session");
    return this.withLock(routeLockId(key), () => findOrCreateLiveLocked(this, key, expiryCutoff, create, async (q) => applyListQuery(await this.entries(), q)));
  }

  /** The ids of the keys content is sealed with, from `sessions/encryption.json`; null when the store was never encrypted. */
  async keyIds(): Promise<string[] | null> {
    this.open();
    return this.keys.read();
  }

  /** Records the key ids atomically (an empty list removes the record). */
  async recordKeyIds(ids: readonly string[]): Promise<void> {
    this.open();
    await this.ready();
    await this.keys.write(ids);
  }

  /** Checkpoints every pending append into its document (a store never opened has none), stops watching; every later call rejects with CLOSED. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.watcher.close();
    if (this.initializing !== undefined) {
      try {
        await this.ready();
        await this.log.close();
      } catch (err) {
        this.warn(`sessions/log: could not write every pending append into its document on close (${oneLine(err instanceof Error ? err.message : String(err), 160)}); they stay in the log and are read from there`);
      }
    }
    this.locks.releaseLeases();
    this.leaseFiles.close();
    this.closed = true;
  }

  /** The index's summaries with the log records not yet checkpointed applied. */
  private async entries(key?: string): Promise<SessionSummary[]> {
    const entries = key === undefined ? await this.index.entries() : await this.index.withKey(key);
    this.log.reader.catchUp();
    return overlay(entries, this.log.reader);
  }

  private open(): void {
    if (this.closed) throw closedError(this.kind);
  }

  private indexLocked<T>(fn: () => Promise<T>): Promise<T> {
    return this.sessionLocks.queue(INDEX_LOCK, () => this.locks.hold(INDEX_LOCK, fn));
  }
}

/** Opens a file store and prepares its directories, so the result is ready to use. */
export async function openFileStore(options: FileStoreOptions): Promise<FileStore> {
  const store = new FileStore(options);
  await store.ready();
  return store;
}
