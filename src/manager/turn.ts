import { OpenclawError } from "../errors.js";
import type { TurnLeases } from "../store/lease.js";

/** How {@link holdTurn} takes and keeps a lease. */
export interface HoldTurnOptions {
  /** The holder's name: one per process, so the store can serve other processes' waiters in turn. */
  holder: string;
  /** Lease duration; renewed every third of it while `fn` runs. */
  ttlMs: number;
  /** Abandons the wait for the lease (ABORTED); once `fn` runs it no longer applies. */
  signal: AbortSignal;
}

/**
 * Runs `fn` holding session `id`'s turn lease in the store, renewing it while
 * `fn` runs and releasing it after. `fn` gets a signal that fires when the
 * lease is lost — a renewal found it taken over, or renewals failed until it
 * expired — so the turn stops instead of writing into another holder's turn.
 */
export async function holdTurn<T>(leases: TurnLeases, id: string, fn: (lost: AbortSignal) => Promise<T>, options: HoldTurnOptions): Promise<T> {
  const { ttlMs } = options;
  const lease = await leases.acquire(id, options.holder, ttlMs, options.signal);
  const lost = new AbortController();
  let renewedAt = Date.now();
  let renewing: Promise<void> | undefined;
  const loseIt = (why: string): void => {
    lost.abort(new OpenclawError("CONFLICT", `the turn lease of session ${id} ${why}; the reply was not stored, retry the turn`, { userError: false }));
  };
  const timer = setInterval(
    () => {
      if (renewing !== undefined || lost.signal.aborted) return;
      const asked = Date.now();
      renewing = leases
        .renew(lease, ttlMs)
        .then(
          (ok) => {
            if (ok) renewedAt = asked;
            else loseIt("expired and was taken over");
          },
          () => {
            // A store hiccup: the next tick tries again, until the lease would have run out.
            if (Date.now() - renewedAt >= ttlMs) loseIt("could not be renewed before it expired");
          },
        )
        .finally(() => (renewing = undefined));
    },
    Math.max(1, Math.floor(ttlMs / 3)),
  );
  timer.unref();
  try {
    return await fn(lost.signal);
  } finally {
    clearInterval(timer);
    await renewing;
    // A release that fails leaves the lease to run out by its expiry.
    await leases.release(lease).catch(() => undefined);
  }
}
