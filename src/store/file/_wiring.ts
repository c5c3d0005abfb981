import { OpenclawError } from "../../errors.js";
import { ContentCodec } from "../_crypto.js";
import { LeaseWakeups } from "../lease.js";
import type { HeldLock, StoreWarning } from "../store.js";
import { DEFAULT_CHECKPOINT_MS, SessionLog } from "./_checkpoint.js";
import { DocumentFiles } from "./_documents.js";
import { DEFAULT_FOLD_BYTES, SessionIndex } from "./_index.js";
import { KeyFile } from "./_keys.js";
import { LeaseFiles } from "./_leases.js";
import { FileLocks } from "./_lock.js";
import { DEFAULT_LOCK_TIMEOUT_MS, DEFAULT_STALE_LOCK_MS, positive, type FileStoreOptions } from "./_options.js";
import { Layout } from "./_paths.js";
import { DEFAULT_WATCH_INTERVAL_MS, IndexWatcher } from "./_watch.js";

/** The file store's parts, each owning one file or concern. */
export interface FileStoreParts {
  dir: string;
  layout: Layout;
  warn: StoreWarning;
  locks: FileLocks;
  keys: KeyFile;
  docs: DocumentFiles;
  index: SessionIndex;
  watcher: IndexWatcher;
  log: SessionLog;
  /** The turn-lease files, kept open while their session's lock is. */
  leaseFiles: LeaseFiles;
}

/** What the parts call back into the store for. */
export interface FileStoreHooks {
  /** This instance's writer id, in the index journal's records. */
  writer: string;
  /** The store's session lock (in-process queue, then the lock file). */
  withLock: <T>(id: string, fn: (held: HeldLock) => Promise<T>) => Promise<T>;
  ready: () => Promise<void>;
  indexLocked: <T>(fn: () => Promise<T>) => Promise<T>;
  /** The in-process queue of a session alone (recovery runs inside ready(), which withLock awaits). */
  runLocked: <T>(id: string, fn: () => Promise<T>) => Promise<T>;
}

/** Checks the options and builds the parts of a file store on `options.dir`. */
export function wireFileStore(options: FileStoreOptions, hooks: FileStoreHooks): FileStoreParts {
  if (typeof options.dir !== "string" || options.dir.trim() === "") {
    throw new OpenclawError("INVALID_ARGUMENT", "file store: dir must name the state directory");
  }
  const dir = options.dir;
  const layout = new Layout(dir);
  const warn: StoreWarning = options.warn ?? ((m) => process.stderr.write(`warning: ${m}\n`));
  const locks = new FileLocks(layout, {
    lockTimeoutMs: positive("lockTimeoutMs", options.lockTimeoutMs, DEFAULT_LOCK_TIMEOUT_MS),
    staleLockMs: positive("staleLockMs", options.staleLockMs, DEFAULT_STALE_LOCK_MS),
  });
  const leaseFiles = new LeaseFiles(
    layout,
    (id, fn) => hooks.withLock(id, fn),
    (id) => locks.generation(id),
    new LeaseWakeups(),
  );
  const codec = new ContentCodec(options.keyring);
  const keys = new KeyFile(layout, dir, codec, options.rekeying === true);
  const docs = new DocumentFiles(layout, warn, codec);
  const foldBytes = positive("journalFoldBytes", options.journalFoldBytes, DEFAULT_FOLD_BYTES);
  const index = new SessionIndex(layout, hooks.indexLocked, docs, warn, foldBytes);
  const watcher = new IndexWatcher({
    layout,
    index,
    writer: hooks.writer,
    intervalMs: positive("watchIntervalMs", options.watchIntervalMs, DEFAULT_WATCH_INTERVAL_MS),
    warn,
    ready: hooks.ready,
    followLog: () => log.reader.catchUp(),
  });
  const log: SessionLog = new SessionLog(
    {
      layout,
      docs,
      warn,
      withLock: (id, fn) => hooks.runLocked(id, () => locks.hold(id, fn)),
      lockGeneration: (id) => locks.generation(id),
      keptGeneration: (id) => locks.keptGeneration(id),
      indexPut: (summary, ps) => index.safely(summary.id, () => index.recordPut(summary, { r: "appended", w: hooks.writer }, ps)),
    },
    positive("checkpointMs", options.checkpointMs, DEFAULT_CHECKPOINT_MS),
  );
  log.reader.listen((record, own) => watcher.record(record, own));
  return { dir, layout, warn, locks, keys, docs, index, watcher, log, leaseFiles };
}
