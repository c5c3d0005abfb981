import { AsyncLocalStorage } from "node:async_hooks";

interface Hold {
  key: string;
  active: boolean;
}

/**
 * Per-key FIFO mutex for one process. Re-entrant through the async context,
 * so a store method that locks internally (put, delete) can be called from
 * inside the caller's `withLock` without deadlocking on itself.
 */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<void>>();
  private readonly context = new AsyncLocalStorage<readonly Hold[]>();

  /** True when the current async context is inside `run(key, ...)` and that run has not finished. */
  holds(key: string): boolean {
    // A hold that has ended stays in contexts that escaped it (un-awaited
    // promises); the active flag keeps those from skipping the lock later.
    return (this.context.getStore() ?? []).some((h) => h.key === key && h.active);
  }

  /** Runs `fn` after every earlier caller for `key` has finished, in arrival order. */
  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    let finish!: () => void;
    const done = new Promise<void>((resolve) => {
      finish = resolve;
    });
    const tail = previous.then(() => done);
    this.tails.set(key, tail);
    const hold: Hold = { key, active: true };
    try {
      await previous;
      return await this.context.run([...(this.context.getStore() ?? []), hold], fn);
    } finally {
      hold.active = false;
      finish();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}
