import { OpenclawError } from "../errors.js";

/**
 * Per-key FIFO mutex for one process. Not re-entrant: a caller that needs to
 * write inside its own hold passes the hold along explicitly (see the
 * stores' HeldLock). Tracking holds through the async context instead
 * (AsyncLocalStorage) would make Node run a hook for every promise the
 * process creates.
 */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<void>>();

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
    try {
      await (signal === undefined ? previous : abortable(previous, signal));
      return await fn();
    } finally {
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
