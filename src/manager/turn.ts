import { OpenclawError } from "../errors.js";
import type { TurnLease, TurnLeases } from "../store/lease.js";
import { KeyedMutex } from "../store/_mutex.js";

/** How {@link TurnKeeper} takes and keeps leases. */
export interface TurnKeeperOptions {
  /** Lease duration; renewed every third of it while the lease is kept. */
  ttlMs: number;
  /** A kept lease no turn of this process has used for this long is given back (other processes' turns wait at most this long for it). */
  idleMs?: number;
  /** A lease kept across turns longer than this is given back at the next turn boundary and taken again, so other processes' waiters get their turn. */
  maxKeepMs?: number;
}

/** Default {@link TurnKeeperOptions.idleMs}. */
export const DEFAULT_TURN_IDLE_MS = 50;
/** Default {@link TurnKeeperOptions.maxKeepMs}. */
export const DEFAULT_TURN_MAX_KEEP_MS = 1_000;

/** A lease this process holds between turns. */
interface Kept {
  lease: TurnLease;
  /** When the store granted it (local clock): the fairness bound counts from here. */
  takenAt: number;
  /** The last successful renewal (or the grant). */
  renewedAt: number;
  /** Fires when the lease is lost: a renewal found it taken over, or renewals failed until it expired. */
  lost: AbortController;
  renewing: Promise<void> | undefined;
  renewTimer: ReturnType<typeof setInterval>;
  idleTimer: ReturnType<typeof setTimeout> | undefined;
  busy: boolean;
}

/**
 * Runs turns holding each session's lease in the store, and keeps a lease
 * between back-to-back turns of one session in this process instead of
 * giving it back and taking it again: a chat's next turn usually arrives
 * within milliseconds on the same gateway, and a round trip to the store
 * for each is most of what a lease costs. A kept lease is renewed like a
 * held one, given back after `idleMs` without a turn, and at the first turn
 * boundary after `maxKeepMs`, so turns of the same session in other
 * processes wait a bounded time and are served in turn (the store's waiter
 * claim decides who is next when it is given back).
 */
export class TurnKeeper {
  private readonly kept = new Map<string, Kept>();
  private readonly local = new KeyedMutex();
  private readonly idleMs: number;
  private readonly maxKeepMs: number;
  private closed = false;

  constructor(
    private readonly leases: TurnLeases,
    private readonly options: TurnKeeperOptions,
  ) {
    this.idleMs = options.idleMs ?? DEFAULT_TURN_IDLE_MS;
    this.maxKeepMs = options.maxKeepMs ?? DEFAULT_TURN_MAX_KEEP_MS;
  }

  /**
   * Runs `fn` as session `id`'s turn, holding its lease. `fn` gets a signal
   * that fires if the lease is lost (so the turn stops instead of writing
   * into another holder's turn); `signal` abandons the wait (ABORTED).
   */
  async run<T>(id: string, fn: (lost: AbortSignal) => Promise<T>, options: { holder: string; signal: AbortSignal }): Promise<T> {
    if (this.closed) throw new OpenclawError("CLOSED", "the session manager is closed", { userError: false });
    return this.local.run(
      id,
      async () => {
        let k = this.kept.get(id);
        if (k !== undefined && !this.usable(k)) {
          await this.giveBack(id, k);
          k = undefined;
        }
        k ??= await this.take(id, options.holder, options.signal);
        k.busy = true;
        if (k.idleTimer !== undefined) clearTimeout(k.idleTimer);
        k.idleTimer = undefined;
        try {
          return await fn(k.lost.signal);
        } finally {
          k.busy = false;
          if (k.lost.signal.aborted || this.closed) await this.giveBack(id, k);
          else this.idleLater(id, k);
        }
      },
      options.signal,
    );
  }

  /** Gives back every kept lease; later turns are refused. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.kept].filter(([, k]) => !k.busy).map(([id, k]) => this.giveBack(id, k)));
  }

  /** How many leases this process keeps now (for tests and status). */
  get keptCount(): number {
    return this.kept.size;
  }

  // A kept lease serves the next turn only while it is surely still ours for
  // a while: not lost, renewed within the last two thirds of its life, and
  // not kept so long that another process's waiter would starve.
  private usable(k: Kept): boolean {
    const now = Date.now();
    return !k.lost.signal.aborted && now - k.renewedAt < (this.options.ttlMs * 2) / 3 && now - k.takenAt < this.maxKeepMs;
  }

  private async take(id: string, holder: string, signal: AbortSignal): Promise<Kept> {
    const { ttlMs } = this.options;
    const lease = await this.leases.acquire(id, holder, ttlMs, signal);
    const now = Date.now();
    const k: Kept = { lease, takenAt: now, renewedAt: now, lost: new AbortController(), renewing: undefined, renewTimer: undefined as unknown as ReturnType<typeof setInterval>, idleTimer: undefined, busy: false };
    const loseIt = (why: string): void => {
      k.lost.abort(new OpenclawError("CONFLICT", `the turn lease of session ${id} ${why}; the reply was not stored, retry the turn`, { userError: false }));
    };
    k.renewTimer = setInterval(
      () => {
        if (k.renewing !== undefined || k.lost.signal.aborted) return;
        const asked = Date.now();
        k.renewing = this.leases
          .renew(lease, ttlMs)
          .then(
            (ok) => {
              if (ok) k.renewedAt = asked;
              else loseIt("expired and was taken over");
            },
            () => {
              // A store hiccup: the next tick tries again, until the lease would have run out.
              if (Date.now() - k.renewedAt >= ttlMs) loseIt("could not be renewed before it expired");
            },
          )
          .finally(() => (k.renewing = undefined));
      },
      Math.max(1, Math.floor(ttlMs / 3)),
    );
    k.renewTimer.unref();
    this.kept.set(id, k);
    return k;
  }

  private idleLater(id: string, k: Kept): void {
    k.idleTimer = setTimeout(() => {
      k.idleTimer = undefined;
      // A turn that started meanwhile owns it now; it schedules the next idle check when done.
      if (!k.busy && this.kept.get(id) === k) void this.giveBack(id, k);
    }, this.idleMs);
    k.idleTimer.unref();
  }

  private async giveBack(id: string, k: Kept): Promise<void> {
    if (this.kept.get(id) === k) this.kept.delete(id);
    clearInterval(k.renewTimer);
    if (k.idleTimer !== undefined) clearTimeout(k.idleTimer);
    k.idleTimer = undefined;
    await k.renewing;
    // A release that fails leaves the lease to run out by its expiry.
    await this.leases.release(k.lease).catch(() => undefined);
  }
}
