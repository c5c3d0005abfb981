import type { Message, Session, SessionKind, SessionStatus, SessionSummary } from "../session/types.js";

/** Filters and paging for {@link SessionStore.list}; results are newest `lastActivityAt` first (ties: newest id first). */
export interface ListQuery {
  /** Effective statuses to include (default: all). */
  statuses?: readonly SessionStatus[];
  kinds?: readonly SessionKind[];
  channel?: string;
  /** Exact routing key. */
  key?: string;
  /** Only sessions whose lastActivityAt is at or after this instant (ISO). */
  activeSince?: string;
  /**
   * Sessions stored as created/active whose lastActivityAt is before this
   * instant (ISO) count as `expired` for the status filter and in the
   * returned summaries. Null: nothing expires.
   */
  expiryCutoff?: string | null;
  offset?: number;
  /** Maximum items returned (default: all). */
  limit?: number;
}

/** A page of summaries and how many matched in all. */
export interface ListPage {
  items: SessionSummary[];
  total: number;
}

/** A loaded document with the revision it was read at. */
export interface Loaded {
  session: Session;
  /** On-disk size in bytes, 0 where the backend has no files. */
  sizeBytes: number;
}

/** Problems a store met and worked around (e.g. a corrupt file moved to quarantine). */
export type StoreWarning = (message: string) => void;

/** Result of {@link SessionStore.maintain}. */
export interface MaintenanceReport {
  /** Leftover temp files, stale locks and similar removed. */
  leftoversRemoved: number;
  /** True when the index was rebuilt from the session documents. */
  indexRebuilt: boolean;
  /** Files moved to quarantine during the rebuild. */
  quarantined: string[];
}

/**
 * The storage contract every backend implements and the conformance suite
 * checks. A session's active document and its pruned-history log are stored
 * separately so appends never rewrite the history of folded messages.
 */
export interface SessionStore {
  /** Backend name, e.g. "file" or "memory". */
  readonly kind: string;
  /** Loads a session; undefined when absent. A corrupt document is quarantined, warned about, and reported as absent. */
  get(id: string): Promise<Loaded | undefined>;
  /**
   * Saves `session` with `revision = expectedRevision + 1`, atomically.
   * `expectedRevision` null means "must not exist yet". Throws CONFLICT when
   * the stored revision differs. Returns the saved document.
   */
  put(session: Session, expectedRevision: number | null): Promise<Session>;
  /** Removes a session and all its files; false when it did not exist. */
  delete(id: string): Promise<boolean>;
  /** Lists summaries from the index, never parsing every document. */
  list(query?: ListQuery): Promise<ListPage>;
  /** Appends folded messages to the session's pruned-history log. */
  appendPruned(id: string, messages: readonly Message[]): Promise<void>;
  /** Reads the whole pruned-history log, oldest first. */
  readPruned(id: string): Promise<Message[]>;
  /** Replaces the pruned-history log (used by clear, retention and import). */
  replacePruned(id: string, messages: readonly Message[]): Promise<void>;
  /**
   * Runs `fn` holding the session's exclusive lock, across processes where
   * the backend is shared. Calls for one id in one process run in arrival order.
   * Re-entrant within one async call chain, so put/delete/appendPruned/
   * replacePruned (which lock by themselves) may be called inside it.
   */
  withLock<T>(id: string, fn: () => Promise<T>): Promise<T>;
  /** Removes leftovers and rebuilds the derived index. */
  maintain(options?: { dryRun?: boolean }): Promise<MaintenanceReport>;
  /** Bytes used on disk by the whole store (0 without files). */
  sizeOnDisk(): Promise<number>;
  /** Releases resources (file handles, timers). */
  close(): Promise<void>;
}
