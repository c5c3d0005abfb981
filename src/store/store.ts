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
  /**
   * Set by a fold: `session` is the stored document at `expectedRevision`
   * with `pruned.append` taken out of its messages and only header fields
   * changed, so a store may record just that delta (the file store writes
   * one log record); any store may ignore it and save the whole document.
   */
  folds?: true;
}

/**
 * The header fields an append may change, and nothing else: the store keeps
 * every other field (key, preferences, tools, system prompts, summary,
 * origin, label…) as stored, and adds the message count itself.
 */
export interface HeaderChange {
  status: SessionStatus;
  updatedAt: string;
  lastActivityAt: string;
  expiredAt: string | null;
  archivedAt: string | null;
  participants: readonly string[];
  /** The context state after the append, its running totals (tokensInUse, usage) already updated by the caller. */
  context: Session["context"];
}

/** What an append stored. */
export interface Appended {
  /** The session's new revision (the base revision + 1). */
  revision: number;
}

/**
 * The storage contract. Every method here is required; the conformance
 * suite in test/conformance/ (store.ts, leases.ts, and manager.ts through a
 * manager) states and tests every rule, and a backend passes it through an
 * initializer of a few lines (see test/store/memory.test.ts).
 *
 * A third-party backend implements all of it. Where a backend has nothing
 * to do the honest answer is a trivial one: `maintain` an empty report,
 * `mayContain` true (it cannot rule a session out cheaply), `describe` its
 * kind and a location, `watch` a listener that only hears other instances
 * on the same data (none, for a store no other instance can open). Two
 * capabilities stay optional, detected by their type guards: cross-process
 * locking ({@link LockingStore}, {@link canLock}: without it the manager
 * writes optimistically and retries on CONFLICT, and serialises routing per
 * key in-process) and encryption at rest ({@link EncryptedStore},
 * {@link canEncrypt}: without it `store rekey` refuses the store).
 *
 * Rules every write follows: validate before writing, so a store never
 * persists what its own reads would reject; a revision check (CONFLICT,
 * nothing written, when the stored revision is not the expected one);
 * `held` ({@link HeldLock}) means the caller holds the session's lock; every
 * call after `close` rejects with CLOSED.
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
   * Appends `messages` to the end of the session's history and applies
   * `header`, at `baseRevision + 1`, without rewriting the document: the
   * cost is the delta's, never the history's (nothing stored is read back,
   * copied, validated or serialized again). Only the delta is validated.
   * CONFLICT, nothing written, when the stored revision is not
   * `baseRevision` (or the session is absent). Derived numbers are running
   * totals: the message count grows by `messages.length`; tokens in use are
   * the header's `context.tokensInUse`. `held`: as for commit. The caller
   * builds the new document from the one it based the append on (see
   * {@link applyAppend}); the store returns only the new revision.
   */
  appendMessages(id: string, baseRevision: number, header: HeaderChange, messages: readonly Message[], held?: HeldLock): Promise<Appended>;
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
  /** The stored revision without loading the document, or null when absent (the manager reuses a cached document while it matches). */
  revisionOf(id: string): Promise<number | null>;
  /**
   * The live (created or active, not expired at `expiryCutoff`) session of a
   * routing key, created atomically from `create()` at revision 1 when there
   * is none, so a key never has two live sessions even with writers in
   * several processes; of several live ones, the newest id wins.
   */
  findOrCreateLive(key: string, expiryCutoff: string | null, create: () => Session | Promise<Session>): Promise<{ session: Session; created: boolean }>;
  /** Store-wide counts by effective status and kind, without paging through every summary. */
  stats(expiryCutoff: string | null): Promise<StoreStats>;
  /** Summaries whose id starts with `prefix` (lower-case hex and dashes), at most `limit`. */
  findByIdPrefix(prefix: string, limit: number): Promise<SessionSummary[]>;
  /** Where the data lives, for `status`. */
  describe(): Promise<StoreDescription>;
  /** Removes leftovers and rebuilds derived data (an empty report when there is none); dryRun changes nothing. */
  maintain(options?: { dryRun?: boolean }): Promise<MaintenanceReport>;
  /** Bytes the store's sessions occupy (files on disk; stored JSON where there are no files). */
  sizeOnDisk(): Promise<number>;
  /**
   * Delivers changes committed by other store instances on the same data
   * (other processes or other opens), never this instance's own; returns
   * the function that stops it.
   */
  watch(listener: (change: StoreChange) => void): () => void;
  /**
   * A cheap test before a full read, for search: false only when session
   * `id` certainly holds no message whose text contains `text`
   * case-insensitively (in its active history, and in its pruned history
   * when `pruned`); true when it may, or when the store cannot tell cheaply.
   */
  mayContain(id: string, text: string, pruned: boolean): Promise<boolean>;
  /** Per-session turn leases shared by every process on the same data (see lease.ts). */
  readonly turnLeases: TurnLeases;
  /** Releases resources; every later call rejects with CLOSED. Idempotent. */
  close(): Promise<void>;
}

/**
 * The document an append produces from `base` (the document at the append's
 * base revision): the header change applied, the messages added at the end,
 * the new revision. Only the new parts are new objects; the earlier messages
 * are `base`'s own.
 */
export function applyAppend(base: Session, header: HeaderChange, messages: readonly Message[], revision: number): Session {
  // Array.from copies a frozen array at memcpy speed, where concat and spread take a slow path.
  const all = Array.from(base.messages);
  for (const m of messages) all.push(m);
  return { ...base, ...header, participants: header.participants as string[], revision, messages: all };
}

/**
 * Exclusive access to one session across every process sharing the store
 * (optional: the PostgreSQL backend orders writers by its revision checks).
 * Fallback: the manager reads, changes and commits optimistically and, on
 * CONFLICT, reloads and retries; routing is serialised per key in-process.
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

/** Result of {@link SessionStore.maintain}. */
export interface MaintenanceReport {
  /** Leftover temp files, stale locks and similar removed. */
  leftoversRemoved: number;
  /** True when a derived index was rebuilt from the documents. */
  indexRebuilt: boolean;
  /** Documents moved to quarantine during the rebuild. */
  quarantined: string[];
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

/** Store-wide counts, by effective status and kind. */
export interface StoreStats {
  total: number;
  byStatus: Record<SessionStatus, number>;
  byKind: Record<SessionKind, number>;
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
/** True when the store records the keys of its encrypted content. */
export const canEncrypt = (s: SessionStore): s is SessionStore & EncryptedStore => has(s, "keyIds");
