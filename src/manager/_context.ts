import type { Config } from "../config/schema.js";
import type { PolicySubject, ResetPolicy } from "../session/reset.js";
import type { Message, Session } from "../session/types.js";
import type { ChangeReason, HeldLock, PrunedChange, SessionStore } from "../store/store.js";

/** What every manager service may read: the store, the frozen config, the clock and ids. */
export interface ManagerContext {
  readonly store: SessionStore;
  /** The effective configuration, deeply frozen. */
  readonly config: Config;
  /** The clock. */
  now(): Date;
  /** A new time-ordered id. */
  newId(): string;
  /** The instant before which created/active sessions count as expired. */
  cutoff(): string | null;
  /** Idle expiry every reset policy agrees on, in ms (0: none); the store evaluates it on read. */
  readonly expiryMs: number;
  /** The reset policy a session follows (sessions.reset and its overrides). */
  resetPolicy(session: PolicySubject): ResetPolicy;
  /** Reports a problem worked around (never thrown). */
  warn(message: string): void;
}

/** A change to save: the new document, its pruned-history change and why. */
export interface Change {
  session: Session;
  reason: ChangeReason;
  pruned?: PrunedChange;
  /** Set when the change only appends these messages (a store that can append writes just them). */
  appended?: readonly Message[];
  /** For an append: the document it was made from (its running totals are carried forward, not recounted). */
  base?: Session;
  /** A fold: the document is the current one without `pruned.append` (see Commit.folds). */
  folds?: true;
}

/** Computes the change from the current document; undefined saves nothing. */
export type Mutation = (current: Session) => Change | undefined | Promise<Change | undefined>;

/** Options of a write. */
export interface WriteOptions {
  signal?: AbortSignal | undefined;
}

/**
 * The one write path: lock (or optimistic retry) → load (cache checked by
 * revision) → mutate → commit → cache → event. Services write only through it.
 */
export interface SessionWriter {
  /** The current document (status as stored), undefined when absent. */
  load(id: string, options?: WriteOptions): Promise<Session | undefined>;
  /** Applies `mutation` to the session and saves it; NOT_FOUND when absent. Returns the saved (or unchanged) document. */
  mutate(id: string, mutation: Mutation, options?: WriteOptions): Promise<Session>;
  /** Saves a new document (revision 1). */
  create(session: Session, options?: WriteOptions): Promise<Session>;
  /** Saves a document whatever is stored under its id (import): replaces it, or creates it. */
  replace(session: Session, pruned: readonly Message[], options?: WriteOptions): Promise<{ saved: Session; existed: boolean }>;
  /** Deletes a session; false when it did not exist. */
  remove(id: string, options?: WriteOptions): Promise<boolean>;
  /**
   * Deletes a session only if `keep` finds no reason to keep its current
   * document (read under the session's lock, deleted at that revision):
   * the reason, or null when deleted; "gone" when it did not exist.
   */
  removeUnless(id: string, keep: (current: Session) => string | null, options?: WriteOptions): Promise<string | null>;
  /** Takes note of a document a store primitive saved by itself (find-or-create): caches it and publishes its event. */
  adopt(session: Session, reason: ChangeReason): Session;
  /** Runs `fn` with the session's lock held where the store has one (in-process order otherwise). */
  exclusive<T>(id: string, fn: (held: HeldLock | undefined) => Promise<T>, options?: WriteOptions): Promise<T>;
}

/** What the write path needs beyond the context: a saved document's derived fields. */
export type Finalize = (session: Session, appended?: { base: Session; messages: readonly Message[] }) => Session;
