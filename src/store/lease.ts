import { randomUUID } from "node:crypto";
import { OpenclawError } from "../errors.js";
import { abortedError, throwIfAborted } from "./_mutex.js";

/** A turn lease a caller holds: what renew and release need to prove it is still theirs. */
export interface TurnLease {
  readonly sessionId: string;
  /** Who holds it: one name per process (or runner), so its own queue never competes with itself for fairness. */
  readonly holder: string;
  /** Unique to this acquisition: a lease taken over after expiry has another token. */
  readonly token: string;
}

/**
 * The per-session turn lease, held in the store so it excludes every process
 * on the same data. A turn holds it from recording the question to recording
 * the reply; a holder that dies releases it by expiry, a live one renews it.
 * Separate from the session lock (short, around one commit): a lease spans a
 * whole model call and never blocks reads or other sessions' writes.
 */
export interface TurnLeases {
  /**
   * Waits until the session's lease is free (released, or expired without
   * renewal) and takes it for `ttlMs`. A holder that waited gets it before
   * the last holder's process takes it again. `signal` abandons the wait
   * with ABORTED, taking nothing.
   */
  acquire(sessionId: string, holder: string, ttlMs: number, signal: AbortSignal): Promise<TurnLease>;
  /** Extends the lease to `ttlMs` from now; false when it is no longer this lease's (taken over after expiry). */
  renew(lease: TurnLease, ttlMs: number): Promise<boolean>;
  /** Gives the lease back; nothing happens when it was already lost. */
  release(lease: TurnLease): Promise<void>;
}

/** A lease as a backend without SQL stores it (memory, file). Times are epoch milliseconds. */
export interface LeaseRecord {
  holder: string;
  token: string;
  /** At or after this instant the lease is free; 0 once released. */
  expiresAt: number;
  /** A holder whose acquire found the lease taken: served next, unless it stops asking before `wantedUntil`. */
  wantedBy?: string;
  wantedUntil?: number;
}

/** How long a waiter's claim to be next lasts without being renewed by its next poll (several poll intervals). */
export const WANT_MS = 250;
const FIRST_POLL_MS = 2;
const MAX_POLL_MS = 50;

/** A fresh lease token. */
export function leaseToken(): string {
  // 122 random bits from the pool randomUUID keeps: a fresh randomBytes call per turn cost ~20 µs.
  return randomUUID().replaceAll("-", "");
}

/**
 * One acquire attempt on a stored record, decided in one place for the
 * backends that store records: `take` is the record to store when the lease
 * is won, else `wait` is the record to store (the waiter's claim to be next,
 * or undefined when it need not change).
 */
export function claim(record: LeaseRecord | undefined, holder: string, token: string, ttlMs: number, now: number): { take: LeaseRecord } | { wait: LeaseRecord | undefined } {
  const wanted = record?.wantedBy !== undefined && (record.wantedUntil ?? 0) > now;
  if (record === undefined || (record.expiresAt <= now && (!wanted || record.wantedBy === holder))) {
    return { take: { holder, token, expiresAt: now + ttlMs } };
  }
  if (wanted && record.wantedBy !== holder) return { wait: undefined };
  return { wait: { ...record, wantedBy: holder, wantedUntil: now + WANT_MS } };
}

/** The record after `lease` is given back: gone, or kept only to carry a waiter's claim. */
export function released(record: LeaseRecord, now: number): LeaseRecord | undefined {
  if (record.wantedBy === undefined || (record.wantedUntil ?? 0) <= now) return undefined;
  return { ...record, expiresAt: 0 };
}

/** Checks the arguments every backend's acquire takes. */
export function checkLeaseArgs(holder: string, ttlMs: number): void {
  if (typeof holder !== "string" || holder === "" || holder.length > 200) throw new OpenclawError("INVALID_ARGUMENT", "a turn lease needs a holder name of 1 to 200 characters");
  if (!Number.isSafeInteger(ttlMs) || ttlMs < 1) throw new OpenclawError("INVALID_ARGUMENT", `a turn lease lasts a positive whole number of milliseconds, got ${String(ttlMs)}`);
}

/**
 * Wakes this process's waiters for a session as soon as a lease of it is
 * released here; waiters in other processes find out on their next poll.
 */
export class LeaseWakeups {
  private readonly waiting = new Map<string, Set<() => void>>();

  /** Wakes every local waiter of `sessionId`. */
  wake(sessionId: string): void {
    const set = this.waiting.get(sessionId);
    if (set === undefined) return;
    this.waiting.delete(sessionId);
    for (const fn of set) fn();
  }

  /**
   * Calls `attempt` until it yields a lease: right away, then after a
   * growing pause (2 → 50 ms, jittered) or as soon as a local release wakes
   * it. ABORTED when `signal` fires.
   */
  async poll(sessionId: string, signal: AbortSignal, attempt: () => Promise<TurnLease | undefined>): Promise<TurnLease> {
    let delay = FIRST_POLL_MS;
    for (;;) {
      throwIfAborted(signal);
      const got = await attempt();
      if (got !== undefined) return got;
      await this.pause(sessionId, delay * (0.5 + Math.random() * 0.5), signal);
      delay = Math.min(MAX_POLL_MS, delay * 2);
    }
  }

  private pause(sessionId: string, ms: number, signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let set = this.waiting.get(sessionId);
      if (set === undefined) this.waiting.set(sessionId, (set = new Set()));
      const cleanup = (): void => {
        clearTimeout(timer);
        signal.removeEventListener("abort", onAbort);
        set.delete(done);
      };
      const done = (): void => {
        cleanup();
        resolve();
      };
      const onAbort = (): void => {
        cleanup();
        reject(abortedError(signal));
      };
      const timer = setTimeout(done, ms);
      set.add(done);
      signal.addEventListener("abort", onAbort, { once: true });
    });
  }
}

/**
 * Changes one session's stored lease record atomically: `fn` sees the record
 * and the time, and says what to store (`next`: a record, null to remove it,
 * absent to leave it) and what to return.
 */
export type LeaseUpdate = <T>(sessionId: string, fn: (current: LeaseRecord | undefined, now: number) => { next?: LeaseRecord | null; result: T }) => Promise<T>;

/** {@link TurnLeases} over any store of {@link LeaseRecord}s that can change one record atomically (memory, file). */
export class RecordLeases implements TurnLeases {
  constructor(
    private readonly update: LeaseUpdate,
    private readonly wakeups: LeaseWakeups,
    /** Validates a session id before anything is stored under it. */
    private readonly checkId: (sessionId: string) => void,
  ) {}

  /** Waits for the lease, polling the record; see {@link TurnLeases.acquire}. */
  async acquire(sessionId: string, holder: string, ttlMs: number, signal: AbortSignal): Promise<TurnLease> {
    this.checkId(sessionId);
    checkLeaseArgs(holder, ttlMs);
    return this.wakeups.poll(sessionId, signal, () =>
      this.update(sessionId, (current, now) => {
        const token = leaseToken();
        const c = claim(current, holder, token, ttlMs, now);
        if ("take" in c) return { next: c.take, result: { sessionId, holder, token } };
        return c.wait === undefined ? { result: undefined } : { next: c.wait, result: undefined };
      }),
    );
  }

  /** Extends the lease while its token is still the stored one. */
  renew(lease: TurnLease, ttlMs: number): Promise<boolean> {
    checkLeaseArgs(lease.holder, ttlMs);
    return this.update(lease.sessionId, (current, now) => (current?.token === lease.token ? { next: { ...current, expiresAt: now + ttlMs }, result: true } : { result: false }));
  }

  /** Removes the lease (keeping a waiter's claim) while its token is still the stored one, and wakes local waiters. */
  async release(lease: TurnLease): Promise<void> {
    const done = await this.update(lease.sessionId, (current, now) => (current?.token === lease.token ? { next: released(current, now) ?? null, result: true } : { result: false }));
    if (done) this.wakeups.wake(lease.sessionId);
  }
}
