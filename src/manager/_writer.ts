import { isOpenclawError } from "../errors.js";
import { assertValidId } from "../session/ids.js";
import type { Message, Session } from "../session/types.js";
import { KeyedMutex, throwIfAborted } from "../store/_mutex.js";
import { canLock, type Commit, type HeaderChange, type HeldLock, type SessionStore } from "../store/store.js";
import type { SessionCache } from "./_cache.js";
import type { Change, Finalize, Mutation, SessionWriter, WriteOptions } from "./_context.js";
import { notFound } from "./_refs.js";
import type { EventHub } from "./events.js";
import { Observers } from "./_observers.js";

/** Attempts of an optimistic write before a CONFLICT may reach the caller (it keeps trying until its time budget is spent too). */
const MAX_ATTEMPTS = 8;

const backoff = (attempt: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, Math.min(50, 2 ** attempt) * (0.5 + Math.random())));

/**
 * The manager's write path. With a locking store a write holds the session's
 * lock; without one it reads, changes and commits optimistically and retries
 * on CONFLICT. Either way the commit's revision check guards against a stale
 * cached document, so the cache can never cause a lost update.
 */
export class Writer implements SessionWriter {
  private readonly local = new KeyedMutex();

  constructor(
    private readonly store: SessionStore,
    private readonly cache: SessionCache,
    private readonly events: EventHub,
    private readonly finalize: Finalize,
    /** How long optimistic writes keep retrying under contention, like a lock wait (storage.lockTimeoutMs). */
    private readonly retryForMs = 10_000,
    /** Who hears how long the store took (the gateway's metrics). */
    private readonly observers = new Observers(),
  ) {}

  // Several writers hammering one session can each lose many rounds in a row; giving up after a
  // fixed count would turn contention into errors, so retries stop only when both budgets are spent.
  private gaveUp(attempt: number, started: number): boolean {
    return attempt >= MAX_ATTEMPTS && Date.now() - started >= this.retryForMs;
  }

  /** Documents held in the cache now. */
  get cached(): number {
    return this.cache.size;
  }

  async load(id: string, options: WriteOptions = {}): Promise<Session | undefined> {
    assertValidId(id);
    throwIfAborted(options.signal);
    const cached = this.cache.get(id);
    if (cached !== undefined) {
      const store = this.store;
      const revision = await this.observers.time("revision", () => store.revisionOf(id));
      if (revision === cached.revision) return cached;
      if (revision === null) {
        this.cache.drop(id);
        return undefined;
      }
    }
    return this.fresh(id);
  }

  async mutate(id: string, mutation: Mutation, options: WriteOptions = {}): Promise<Session> {
    assertValidId(id);
    return this.exclusive(
      id,
      async (held) => {
        const started = Date.now();
        for (let attempt = 1; ; attempt++) {
          throwIfAborted(options.signal);
          // The first attempt may use the cache unchecked: the commit's revision check catches a stale copy.
          const cached = attempt === 1 ? this.cache.get(id) : undefined;
          const current = cached ?? (await this.fresh(id));
          if (current === undefined) throw notFound(id);
          const change = await mutation(current);
          if (change === undefined || change.session === current) {
            // No commit checks a decision to change nothing ("already stored", say): a cached copy is checked here.
            if (cached !== undefined && !(await this.isCurrent(cached))) continue;
            return current;
          }
          throwIfAborted(options.signal);
          try {
            return await this.save(change, current.revision, held);
          } catch (err) {
            if (!isOpenclawError(err, "CONFLICT") || this.gaveUp(attempt, started)) throw err;
            this.cache.drop(id);
            if (!canLock(this.store)) await backoff(attempt);
          }
        }
      },
      options,
    );
  }

  async create(session: Session, options: WriteOptions = {}): Promise<Session> {
    throwIfAborted(options.signal);
    return this.save({ session, reason: "created" }, null);
  }

  async replace(session: Session, pruned: readonly Message[], options: WriteOptions = {}): Promise<{ saved: Session; existed: boolean }> {
    return this.exclusive(
      session.id,
      async (held) => {
        const started = Date.now();
        for (let attempt = 1; ; attempt++) {
          const current = await this.fresh(session.id);
          try {
            const saved = await this.save({ session, reason: "imported", pruned: { replace: pruned } }, current?.revision ?? null, held);
            return { saved, existed: current !== undefined };
          } catch (err) {
            if (!isOpenclawError(err, "CONFLICT") || this.gaveUp(attempt, started)) throw err;
            if (!canLock(this.store)) await backoff(attempt);
          }
        }
      },
      options,
    );
  }

  async remove(id: string, options: WriteOptions = {}): Promise<boolean> {
    return this.exclusive(
      id,
      async (held) => {
        const key = this.cache.get(id)?.key ?? (await this.fresh(id))?.key ?? "";
        const existed = await this.store.delete(id, held);
        this.cache.drop(id);
        if (existed) this.events.publish({ id, key, revision: 0, reason: "deleted" }, "local");
        return existed;
      },
      options,
    );
  }

  async removeUnless(id: string, keep: (current: Session) => string | null, options: WriteOptions = {}): Promise<string | null> {
    return this.exclusive(
      id,
      async (held) => {
        const current = await this.fresh(id);
        if (current === undefined) return "gone";
        const why = keep(current);
        if (why !== null) return why;
        // At the revision checked: a store without locks may have a writer in another process between the read and here.
        if (!(await this.store.delete(id, held, current.revision))) return "changed meanwhile";
        this.cache.drop(id);
        this.events.publish({ id, key: current.key, revision: 0, reason: "deleted" }, "local");
        return null;
      },
      options,
    );
  }

  adopt(session: Session, reason: Change["reason"]): Session {
    const frozen = this.cache.set(session);
    this.events.publish({ id: session.id, key: session.key, revision: session.revision, reason }, "local");
    return frozen;
  }

  exclusive<T>(id: string, fn: (held: HeldLock | undefined) => Promise<T>, options: WriteOptions = {}): Promise<T> {
    assertValidId(id);
    throwIfAborted(options.signal);
    const store = this.store;
    // In-process order first (cheap, and it keeps one process's writers from conflicting with each other).
    if (canLock(store)) return store.withLock(id, fn, options.signal);
    return this.local.run(id, () => fn(undefined), options.signal);
  }

  /** Whether the store still holds `doc`'s revision. */
  private async isCurrent(doc: Session): Promise<boolean> {
    const store = this.store;
    const revision = await this.observers.time("revision", () => store.revisionOf(doc.id));
    if (revision === doc.revision) return true;
    this.cache.drop(doc.id);
    return false;
  }

  private async fresh(id: string): Promise<Session | undefined> {
    const loaded = await this.observers.time("get", () => this.store.get(id));
    if (loaded === undefined) {
      this.cache.drop(id);
      return undefined;
    }
    return this.cache.set(loaded.session);
  }

  private async save(change: Change, expectedRevision: number | null, held?: HeldLock): Promise<Session> {
    const appended = change.pruned === undefined ? change.appended : undefined;
    const base = appended !== undefined && change.base !== undefined && change.base.revision === expectedRevision ? change.base : undefined;
    const session = this.finalize(change.session, base === undefined || appended === undefined ? undefined : { base, messages: appended });
    let saved: Session;
    const store = this.store;
    if (base !== undefined && appended !== undefined) {
      // Only the delta goes to the store; the saved document is the one built here, at the store's new revision.
      const header = headerOf(session);
      const { revision } = await this.observers.time("append", () => store.appendMessages(session.id, base.revision, header, appended, held));
      // Object.assign, not a spread: the cached session keeps a shared hidden class (see withAppendFields).
      saved = Object.assign({}, session, { revision });
    } else {
      const commit: Commit = {
        session,
        expectedRevision,
        reason: change.reason,
        ...(change.pruned !== undefined ? { pruned: change.pruned } : {}),
        ...(held !== undefined ? { held } : {}),
        ...(change.folds === true && change.session.messages.length > 0 ? { folds: true as const } : {}),
      };
      saved = await this.observers.time("commit", () => store.commit(commit));
    }
    // An append built on a cached (frozen) base adds only new parts to freeze.
    const frozen = base !== undefined ? this.cache.setAppended(saved, base) : this.cache.set(saved);
    this.events.publish({ id: saved.id, key: saved.key, revision: saved.revision, reason: change.reason }, "local");
    return frozen;
  }
}

/** The header fields of `session` an append may change (see HeaderChange). */
function headerOf(session: Session): HeaderChange {
  const { status, updatedAt, lastActivityAt, expiredAt, archivedAt, participants, context } = session;
  return { status, updatedAt, lastActivityAt, expiredAt, archivedAt, participants, context };
}
