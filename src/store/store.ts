import type { Message, Session, SessionKind, SessionStatus, SessionSummary } from "../session/types.js";
import type { TurnLeases } from "./lease.js";
export type { TurnLease, TurnLeases } from "./lease.js";

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

/** A loaded document. */
export interface Loaded {
  session: Session;
  /** Stored size in bytes (the document's serialized size where the backend has no files). */
  sizeBytes: number;
}

/** Problems a store met and worked around (e.g. a corrupt file moved to quarantine). */
export type StoreWarning = (message: string) => void;

/** What a change was, carried with it so listeners in other processes can tell an append from an edit. */
export type ChangeReason = "created" | "appended" | "edited" | "compacted" | "archived" | "unarchived" | "expired" | "cleared" | "imported" | "deleted";

/** Changes to the pruned-history log that travel with a document commit. */
export type PrunedChange =
  /** Folded messages to add at the end; an id already in the log is kept once (the first copy). */
  | { append: readonly Message[] }
  /** The whole new log (clear, retention, import); empty removes it. */
  | { replace: readonly Message[] };

/**
 * Proof, handed to {@link LockingStore.withLock}'s callback, that the caller
 * holds a session's lock: a write given it runs inside that hold instead of
 * taking the lock again (which would wait for itself). Passing it is how a
 * write says "I hold the lock"; nothing tracks async call chains.
 */
export interface HeldLock {
  /** The session (or lock name) held. */
  readonly id: string;
}

/** One atomic write: the document at `expectedRevision + 1` plus its pruned-history change. */
export interface Commit {
  /** The new document; its `revision` is ignored and set by the store. */
  session: Session;
  /** The revision the change was based on; null means "must not exist yet". */
  expectedRevision: number | null;
  pruned?: PrunedChange;
  /** Why, for change listeners; when absent, listeners get a reason inferred from the change (status, message count). */
  reason?: ChangeReason;
  /** The session's lock, when the caller holds it (inside withLock). */
  held?: HeldLock;
}

/**
 * The required core every backend implements; the conformance suite in
 * test/conformance/ states every rule. Everything else is an optional
 * capability below, detected by its type guard, each with the fallback the
 * manager uses when a backend lacks it.
 */
export interface SessionStore {
  /** Backend name, e.g. "file" or "memory". */
  readonly kind: string;
  /** Loads a session; undefined when absent. A corrupt document is reported (warned, quarantined where it can be) and treated as absent. */
  get(id: string): Promise<Loaded | undefined>;
  /**
   * Saves the document at `expectedRevision + 1` together with its pruned
   * change, as one unit: either both are stored or neither (a backend
   * without transactions writes the log first and relies on the log
   * keeping each id once, so a crash in between loses nothing). Throws
   * CONFLICT when the stored revision differs, nothing written. Returns the
   * saved document.
   */
  commit(change: Commit): Promise<Session>;
  /**
   * Removes a session and its pruned history; false when it did not exist.
   * `held`: the session's lock, when the caller holds it. `expectedRevision`:
   * remove it only while this is its stored revision (false, nothing
   * removed, otherwise), so a check made on a read cannot be outrun by a
   * writer in another process.
   */
  delete(id: string, held?: HeldLock, expectedRevision?: number): Promise<boolean>;
  /** Lists summaries without parsing every document. */
  list(query?: ListQuery): Promise<ListPage>;
  /** The pruned-history log, oldest first, each id once. */
  readPruned(id: string): Promise<Message[]>;
  /** Per-session turn leases shared by every process on the same data (see lease.ts). */
  readonly turnLeases: TurnLeases;
  /** Releases resources; every later call rejects with CLOSED. Idempotent. */
  close(): Promise<void>;
}

/**
 * Exclusive access to one session across every process sharing the store.
 * Fallback: the manager reads, changes and commits optimistically and, on
 * CONFLICT, reloads and retries.
 */
export interface LockingStore {
  /**
   * Runs `fn` holding the id's lock; callers in one process run in arrival
   * order. `fn` gets the {@link HeldLock}: commit, appendMessages and delete
   * given it run inside this hold (without it they take the lock
   * themselves, and would wait for it). `signal` abandons the wait.
   */
  withLock<T>(id: string, fn: (held: HeldLock) => Promise<T>, signal?: AbortSignal): Promise<T>;
}

/**
 * Appends messages without rewriting the document. `session` is the whole new
 * document: the stored one with `messages` added at the end and only its
 * header fields (status, times, participants, context) changed; the backend
 * may write just the delta. Same revision rule as commit.
 * Fallback: commit the whole document.
 */
export interface AppendingStore {
  appendMessages(session: Session, expectedRevision: number, messages: readonly Message[], held?: HeldLock): Promise<Session>;
}

/** Result of {@link MaintainableStore.maintain}. */
export interface MaintenanceReport {
  /** Leftover temp files, stale locks and similar removed. */
  leftoversRemoved: number;
  /** True when a derived index was rebuilt from the documents. */
  indexRebuilt: boolean;
  /** Documents moved to quarantine during the rebuild. */
  quarantined: string[];
}

/** Removes leftovers and rebuilds derived data. Fallback: nothing to maintain (an empty report). */
export interface MaintainableStore {
  maintain(options?: { dryRun?: boolean }): Promise<MaintenanceReport>;
}

/** Bytes the store occupies. Fallback: size unknown (null in reports). */
export interface SizedStore {
  sizeOnDisk(): Promise<number>;
}

/** A change committed to the store, as a change listener receives it. */
export interface StoreChange {
  id: string;
  /** Routing key; empty for a deletion whose key the backend no longer knows. */
  key: string;
  /** The new revision (0 for a deletion). */
  revision: number;
  reason: ChangeReason;
}

/**
 * Tells listeners about changes committed by other store instances (other
 * processes or other opens of the same data), never this instance's own.
 * Fallback: only changes made through this manager are seen.
 */
export interface ObservableStore {
  /** Starts delivering foreign changes to `listener`; returns the function that stops it. */
  watch(listener: (change: StoreChange) => void): () => void;
}

/** Store-wide counts, by effective status and kind. */
export interface StoreStats {
  total: number;
  byStatus: Record<SessionStatus, number>;
  byKind: Record<SessionKind, number>;
}

/** Counts without paging through every summary. Fallback: count a full list. */
export interface StatsStore {
  stats(expiryCutoff: string | null): Promise<StoreStats>;
}

/** Ids starting with a prefix. Fallback: filter a full list. */
export interface PrefixStore {
  /** Summaries whose id starts with `prefix` (lower-case hex and dashes), at most `limit`. */
  findByIdPrefix(prefix: string, limit: number): Promise<SessionSummary[]>;
}

/** Cheap revision check, so a cached document can be reused. Fallback: no read cache (writes still use it, guarded by commit). */
export interface RevisionStore {
  /** The stored revision, or null when absent. */
  revisionOf(id: string): Promise<number | null>;
}

/**
 * The live (created or active, not expired at `expiryCutoff`) session of a
 * routing key, created atomically when there is none, so a key never has two
 * live sessions even with writers in several processes.
 * Fallback: the manager serialises routing per key with `withLock` on a name
 * derived from the key, or in-process only when the store cannot lock.
 */
export interface RoutingStore {
  findOrCreateLive(key: string, expiryCutoff: string | null, create: () => Session | Promise<Session>): Promise<{ session: Session; created: boolean }>;
}

/** What a backend tells about itself for `status`. */
export interface StoreDescription {
  /** Backend name, as {@link SessionStore.kind}. */
  backend: string;
  /** Where the data lives, credentials removed (a directory, or a URL without user info or password). */
  location: string;
  /** The server's version where there is a server (e.g. "PostgreSQL 15.19"). */
  serverVersion?: string;
}

/** Describes where the data lives. Fallback: the backend's kind alone. */
export interface DescribedStore {
  describe(): Promise<StoreDescription>;
}

/**
 * A cheap test before a full read, for search. Fallback: every session is
 * read.
 */
export interface TextProbeStore {
  /**
   * False only when session `id` certainly holds no message whose text
   * contains `text` case-insensitively (in its active history, and in its
   * pruned history when `pruned`); true when it may, or when the store
   * cannot tell cheaply.
   */
  mayContain(id: string, text: string, pruned: boolean): Promise<boolean>;
}

/**
 * A store that records which keys its encrypted content is sealed with (see
 * `storage.encryption`), so opening it with another key or none fails
 * before anything is read or written. Fallback: nothing at rest to encrypt
 * (the memory store); `store rekey` refuses such a store.
 */
export interface EncryptedStore {
  /** The ids of the keys content may be sealed with; null when the store never held encrypted content. */
  keyIds(): Promise<string[] | null>;
  /** Records the key ids (a rekey adds the new one first and drops the old one last); an empty list marks the store plain. */
  recordKeyIds(ids: readonly string[]): Promise<void>;
}

const has = (store: object, method: string): boolean => typeof (store as Record<string, unknown>)[method] === "function";

/** True when the store can lock a session across processes. */
export const canLock = (s: SessionStore): s is SessionStore & LockingStore => has(s, "withLock");
/** True when the store appends messages without rewriting the document. */
export const canAppend = (s: SessionStore): s is SessionStore & AppendingStore => has(s, "appendMessages");
/** True when the store has maintenance work (leftovers, an index). */
export const canMaintain = (s: SessionStore): s is SessionStore & MaintainableStore => has(s, "maintain");
/** True when the store knows its size. */
export const canSize = (s: SessionStore): s is SessionStore & SizedStore => has(s, "sizeOnDisk");
/** True when the store reports other instances' changes. */
export const canWatch = (s: SessionStore): s is SessionStore & ObservableStore => has(s, "watch");
/** True when the store counts by itself. */
export const canCount = (s: SessionStore): s is SessionStore & StatsStore => has(s, "stats");
/** True when the store looks ids up by prefix. */
export const canFindPrefix = (s: SessionStore): s is SessionStore & PrefixStore => has(s, "findByIdPrefix");
/** True when the store tells a revision without loading the document. */
export const canPeekRevision = (s: SessionStore): s is SessionStore & RevisionStore => has(s, "revisionOf");
/** True when the store finds or creates a key's live session atomically. */
export const canRoute = (s: SessionStore): s is SessionStore & RoutingStore => has(s, "findOrCreateLive");
/** True when the store describes itself. */
export const canDescribe = (s: SessionStore): s is SessionStore & DescribedStore => has(s, "describe");
/** True when the store can rule sessions out of a text search without reading them. */
export const canProbeText = (s: SessionStore): s is SessionStore & TextProbeStore => has(s, "mayContain");
/** True when the store records the keys of its encrypted content. */
export const canEncrypt = (s: SessionStore): s is SessionStore & EncryptedStore => has(s, "keyIds");
