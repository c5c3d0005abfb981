import { OpenclawError } from "../../errors.js";
import { KeyedMutex } from "../_mutex.js";
import type { HeldLock } from "../store.js";
import type { FileLocks } from "./_lock.js";

/**
 * Sessions' locks as the file store hands them out: same-process callers
 * queue in arrival order before touching the lock file, and each hold is a
 * token the writes made under it present, so a write inside a hold never
 * takes the lock again and a write claiming a hold it does not have is
 * refused.
 */
export class SessionLocks {
  private readonly mutex = new KeyedMutex();
  private readonly held = new Map<string, HeldLock>();

  constructor(
    private readonly files: FileLocks,
    /** Runs once a caller's turn in the queue comes (the store may have closed meanwhile). */
    private readonly whenQueued: () => Promise<void>,
  ) {}

  /** The in-process queue of a session alone, without the lock file. */
  queue<T>(id: string, fn: () => Promise<T>): Promise<T> {
    return this.mutex.run(id, fn);
  }

  /** Runs `fn` holding the session's lock across processes; `signal` abandons the wait, in the queue or on another process's lock. */
  hold<T>(id: string, fn: (held: HeldLock) => Promise<T>, signal?: AbortSignal): Promise<T> {
    return this.mutex.run(
      id,
      async () => {
        await this.whenQueued();
        return this.files.hold(
          id,
          async () => {
            const held: HeldLock = Object.freeze({ id });
            this.held.set(id, held);
            try {
              return await fn(held);
            } finally {
              if (this.held.get(id) === held) this.held.delete(id);
            }
          },
          signal,
        );
      },
      signal,
    );
  }

  /** Runs `fn` under the session's lock: inside the caller's hold when `held` is it, else taking the lock. */
  within<T>(id: string, held: HeldLock | undefined, fn: () => Promise<T>): Promise<T> {
    if (held === undefined) return this.hold(id, fn);
    if (this.held.get(id) !== held) throw new OpenclawError("INVALID_ARGUMENT", `a write to session ${id} claimed a lock that is not held; nothing was written`, { userError: false });
    return fn();
  }
}
