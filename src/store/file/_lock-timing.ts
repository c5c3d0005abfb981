// How long the file store's cross-process locks wait, live and are kept (see FileLocks).

/** Timing of the cross-process lock. */
export interface LockTiming {
  lockTimeoutMs: number;
  staleLockMs: number;
}

export const FIRST_DELAY_MS = 2;
export const MAX_DELAY_MS = 50;
/** A breaker lives for a few syscalls; one this old belongs to a process that died mid-break. */
export const BREAKER_STALE_MS = 5_000;
/** Window between creating a lock file and writing its content; an empty lock older than this is abandoned. */
export const UNWRITTEN_GRACE_MS = 2_000;
/**
 * A lease ends this long after its last use: a session written again within it keeps its lock file (no create, no
 * removal, no re-read of what others wrote). A waiter waits less: a wanted lease is given back within WANT_POLL_MS.
 */
export const LEASE_IDLE_MS = 1_000;
/** How often idle leases are looked over for waiters: one stat of the store-wide marker while none waits. */
export const WANT_POLL_MS = 20;
/** Idle leases kept at most, per store instance; past it the least recently used is given back (each holds a descriptor). */
export const MAX_IDLE_LEASES = 256;
/** A lease is never reused past this age, so a process writing flat out still recreates its lock now and then. */
export const LEASE_MAX_MS = 2_000;
/** Longest a holder that gave a wanted lock back holds off before taking it again: a waiter's longest sleep, with margin. */
export const YIELD_MS = MAX_DELAY_MS + 25;
/** A lease found unwanted this recently is reused without looking again; a waiter's first poll is FIRST_DELAY_MS after it marks. */
export const WANT_RECHECK_MS = 1;
