import { rm, unlink } from "node:fs/promises";
import { OpenclawError, storageError } from "../../errors.js";
import { assertValidId } from "../../session/ids.js";
import { toSummary } from "../../session/lifecycle.js";
import type { Message, Session } from "../../session/types.js";
import { conflictError, oneLine, prepareDocument, prepareMessages } from "../_document.js";
import { KeyedMutex } from "../_mutex.js";
import { applyListQuery, validateListQuery } from "../_query.js";
import type { ListPage, ListQuery, Loaded, MaintenanceReport, SessionStore, StoreWarning } from "../store.js";
import { DocumentFiles } from "./_documents.js";
import { ensureDir, fsyncDir } from "./_fs.js";
import { DEFAULT_FOLD_BYTES, SessionIndex } from "./_index.js";
import { FileLocks } from "./_lock.js";
import { bytesUnder, maintainFiles } from "./_maintain.js";
import { INDEX_LOCK, Layout } from "./_paths.js";
import { appendPrunedLog, readPrunedLog, replacePrunedLog } from "./_pruned.js";

/** Options of {@link FileStore}. */
export interface FileStoreOptions {
  /** The state directory; sessions live in `<dir>/sessions`. */
  dir: string;
  /** How long `withLock` waits for another process (default 10 s). */
  lockTimeoutMs?: number;
  /** A lock not refreshed for this long counts as abandoned (default 30 s; live holders refresh it). */
  staleLockMs?: number;
  /** Receives one-line reports of problems worked around; default: stderr. */
  warn?: StoreWarning;
  /** Journal size in bytes below which it is never folded into the index snapshot (default 400 kB, ~1000 changes). */
  journalFoldBytes?: number;
}

const DEFAULT_LOCK_TIMEOUT_MS = 10_000;
const DEFAULT_STALE_LOCK_MS = 30_000;

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) {
    throw new OpenclawError("INVALID_ARGUMENT", `file store: ${name} must be a positive number, got ${String(value)}`);
  }
  return value;
}

/**
 * The default backend: one JSON document per session under `<dir>/sessions`,
 * written atomically, guarded by per-session lock files, listed through a
 * derived index that can always be rebuilt from the documents.
 */
export class FileStore implements SessionStore {
  /** Backend name. */
  readonly kind = "file";
  /** The state directory this store was opened on. */
  readonly dir: string;
  private readonly layout: Layout;
  private readonly warn: StoreWarning;
  private readonly mutex = new KeyedMutex();
  private readonly locks: FileLocks;
  private readonly docs: DocumentFiles;
  private readonly index: SessionIndex;
  private initializing: Promise<void> | undefined;

  constructor(options: FileStoreOptions) {
    if (typeof options.dir !== "string" || options.dir.trim() === "") {
      throw new OpenclawError("INVALID_ARGUMENT", "file store: dir must name the state directory");
    }
    this.dir = options.dir;
    this.layout = new Layout(options.dir);
    this.warn = options.warn ?? ((m) => process.stderr.write(`warning: ${m}\n`));
    this.locks = new FileLocks(this.layout, {
      lockTimeoutMs: positive("lockTimeoutMs", options.lockTimeoutMs, DEFAULT_LOCK_TIMEOUT_MS),
      staleLockMs: positive("staleLockMs", options.staleLockMs, DEFAULT_STALE_LOCK_MS),
    });
    this.docs = new DocumentFiles(this.layout, this.warn);
    const foldBytes = positive("journalFoldBytes", options.journalFoldBytes, DEFAULT_FOLD_BYTES);
    this.index = new SessionIndex(this.layout, (fn) => this.indexLocked(fn), this.docs, this.warn, foldBytes);
  }

  /** Creates the directories (0700) and an empty index if needed; every method awaits it. */
  ready(): Promise<void> {
    this.initializing ??= (async () => {
      await ensureDir(this.layout.root, false, true);
      await ensureDir(this.layout.sessions, true);
      await ensureDir(this.layout.quarantine, true);
      await this.index.initialize();
    })().catch((err: unknown) => {
      this.initializing = undefined;
      throw err;
    });
    return this.initializing;
  }

  /** Loads and validates a session; a corrupt file is quarantined, warned about and reported absent. */
  async get(id: string): Promise<Loaded | undefined> {
    assertValidId(id);
    await this.ready();
    const r = await this.docs.read(id);
    if (r.state === "ok") return { session: r.session, sizeBytes: r.bytes };
    if (r.state === "corrupt" && r.quarantinedAs !== undefined) await this.indexUpdate(id, () => this.index.recordDelete(id));
    return undefined;
  }

  /** Saves atomically at `expectedRevision + 1` under the session lock; CONFLICT when the stored revision differs. */
  async put(session: Session, expectedRevision: number | null): Promise<Session> {
    assertValidId(session.id);
    const doc = await prepareDocument(session, expectedRevision === null ? 1 : expectedRevision + 1);
    return this.withLock(doc.id, async () => {
      const stored = await this.docs.revision(doc.id);
      if (stored !== expectedRevision) throw conflictError(doc.id, stored, expectedRevision);
      const bytes = await this.docs.write(doc.id, JSON.stringify(doc));
      await this.indexUpdate(doc.id, () => this.index.recordPut(toSummary(doc, bytes)));
      return doc;
    });
  }

  /** Removes the document and its pruned log; false when the document did not exist. */
  async delete(id: string): Promise<boolean> {
    assertValidId(id);
    return this.withLock(id, async () => {
      const existed = await this.docs.remove(id);
      const pruned = this.layout.pruned(id);
      try {
        await rm(pruned, { force: true });
      } catch (err) {
        throw storageError("delete", pruned, err);
      }
      await fsyncDir(this.layout.sessions);
      if (existed) await this.indexUpdate(id, () => this.index.recordDelete(id));
      return existed;
    });
  }

  /** Lists summaries from the index (effective statuses, newest activity first). */
  async list(query: ListQuery = {}): Promise<ListPage> {
    validateListQuery(query);
    await this.ready();
    return applyListQuery(await this.index.entries(), query);
  }

  /** Appends to the session's pruned-history log, flushed before returning. */
  async appendPruned(id: string, messages: readonly Message[]): Promise<void> {
    assertValidId(id);
    const lines = await prepareMessages(id, messages);
    if (lines.length === 0) return;
    await this.withLock(id, () => appendPrunedLog(this.layout.pruned(id), lines));
  }

  /** Reads the pruned-history log, oldest first; unreadable lines are skipped with a warning. */
  async readPruned(id: string): Promise<Message[]> {
    assertValidId(id);
    await this.ready();
    return readPrunedLog(this.layout.pruned(id), this.warn);
  }

  /** Replaces the pruned-history log atomically. */
  async replacePruned(id: string, messages: readonly Message[]): Promise<void> {
    assertValidId(id);
    const lines = await prepareMessages(id, messages);
    await this.withLock(id, () => replacePrunedLog(this.layout.pruned(id), `${id}.pruned`, lines));
  }

  /**
   * Runs `fn` holding the session's lock across processes. Same-process
   * callers queue in arrival order before touching the lock file; nested
   * calls for an id already held in this async context run directly.
   */
  async withLock<T>(id: string, fn: () => Promise<T>): Promise<T> {
    assertValidId(id);
    if (this.mutex.holds(id)) return fn();
    return this.mutex.run(id, async () => {
      await this.ready();
      return this.locks.hold(id, fn);
    });
  }

  /** Removes leftovers (old temp files, stale locks) and rebuilds the index; dryRun changes nothing. */
  async maintain(options: { dryRun?: boolean } = {}): Promise<MaintenanceReport> {
    await this.ready();
    return maintainFiles(this.layout, this.locks, this.index, options.dryRun === true);
  }

  /** Bytes of every file under `<dir>/sessions`, quarantine included. */
  async sizeOnDisk(): Promise<number> {
    await this.ready();
    return bytesUnder(this.layout.sessions);
  }

  /** Nothing is held between calls (locks live only inside withLock), so there is nothing to release. */
  async close(): Promise<void> {}

  private indexLocked<T>(fn: () => Promise<T>): Promise<T> {
    if (this.mutex.holds(INDEX_LOCK)) return fn();
    return this.mutex.run(INDEX_LOCK, () => this.locks.hold(INDEX_LOCK, fn));
  }

  /**
   * The document is already safe when the index update runs, so a failure
   * here must not fail the save: drop the snapshot so the next list
   * rebuilds it from the documents, and say so.
   */
  private async indexUpdate(id: string, update: () => Promise<void>): Promise<void> {
    try {
      await update();
    } catch (err) {
      const reason = oneLine(err instanceof Error ? err.message : String(err), 160);
      this.warn(`sessions/index.journal: could not record the change to session ${id} (${reason}); the index will be rebuilt on next list`);
      await unlink(this.layout.snapshot).catch(() => undefined);
    }
  }
}

/** Opens a file store and prepares its directories, so the result is ready to use. */
export async function openFileStore(options: FileStoreOptions): Promise<FileStore> {
  const store = new FileStore(options);
  await store.ready();
  return store;
}
