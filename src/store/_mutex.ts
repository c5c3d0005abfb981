import { AsyncLocalStorage } from "node:async_hooks";
import { OpenclawError } from "../errors.js";

interface Hold {
  mutex: KeyedMutex;
  key: string;
  active: boolean;
}

/**
 * The holds of every re-entrant mutex in the current async context. One
 * store for all of them: while any AsyncLocalStorage is in use, Node runs
 * a hook for every promise the process creates, once per storage, so a
 * storage per mutex multiplied that cost.
 */
const holdsHere = new AsyncLocalStorage<readonly Hold[]>();

/**
 * Per-key FIFO mutex for one process. A re-entrant one (`reentrant: true`)
 * lets a caller already inside `run(key, ...)` in the same async context
 * see that through `holds(key)`, so a store method that locks internally
 * (put, delete) can be called from inside the caller's `withLock` without
 * deadlocking on itself. Tracking the context costs every promise the
 * process creates a hook, so only mutexes that need it ask for it.
 */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<void>>();
  private readonly reentrant: boolean;

  constructor(options: { reentrant?: boolean } = {}) {
    this.reentrant = options.reentrant === true;
  }

  /** True when this mutex is re-entrant and the current async context is inside `run(key, ...)`, and that run has not finished. */
  holds(key: string): boolean {
    if (!this.reentrant) return false;
    // A hold that has ended stays in contexts that escaped it (un-awaited
    // promises); the active flag keeps those from skipping the lock later.
    return (holdsHere.getStore() ?? []).some((h) => h.mutex === this && h.key === key && h.active);
  }

  /**
   * Runs `fn` after every earlier caller for `key` has finished, in arrival
   * order. An aborted `signal` gives up the wait (ABORTED) without breaking
   * the queue: later callers still wait for the earlier ones.
   */
  async run<T>(key: string, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    let finish!: () => void;
    const done = new Promise<void>((resolve) => {
      finish = resolve;
    });
    const tail = previous.then(() => done);
    this.tails.set(key, tail);
    const hold: Hold = { mutex: this, key, active: true };
    try {
      await (signal === undefined ? previous : abortable(previous, signal));
      return await (this.reentrant ? holdsHere.run([...(holdsHere.getStore() ?? []), hold], fn) : fn());
    } finally {
      hold.active = false;
      finish();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}

/** The ABORTED error for an operation whose signal fired. */
export function abortedError(signal: AbortSignal): OpenclawError {
  const reason = signal.reason instanceof Error ? signal.reason.message : typeof signal.reason === "string" ? signal.reason : "the caller gave up";
  return new OpenclawError("ABORTED", `operation aborted: ${reason}; nothing more was written`, { userError: false, cause: signal.reason });
}

/** Throws ABORTED when `signal` has fired. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortedError(signal);
}

/** Waits for `p`, or rejects with ABORTED as soon as `signal` fires. */
export function abortable<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(abortedError(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortedError(signal));
    signal.addEventListener("abort", onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(e);
      },
    );
  });
}

/**
 * A signal that fires when any of `signals` does, and the function that
 * unhooks it once the work is over. Unlike AbortSignal.any, nothing stays
 * attached to a long-lived signal (a shutdown signal) after `dispose`.
 */
export function linkedSignal(signals: readonly AbortSignal[]): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const hooked: Array<[AbortSignal, () => void]> = [];
  const dispose = (): void => {
    for (const [s, fn] of hooked) s.removeEventListener("abort", fn);
    hooked.length = 0;
  };
  for (const s of signals) {
    if (s.aborted) {
      dispose();
      controller.abort(s.reason);
      break;
    }
    const fn = (): void => {
      dispose();
      controller.abort(s.reason);
    };
    s.addEventListener("abort", fn, { once: true });
    hooked.push([s, fn]);
  }
  return { signal: controller.signal, dispose };
}
