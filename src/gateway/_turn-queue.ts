import { randomBytes } from "node:crypto";
import { isOpenclawError, OpenclawError } from "../errors.js";
import type { SessionManager } from "../manager/manager.js";
import { KeyedMutex, linkedSignal } from "../store/_mutex.js";
import type { GatewayLog } from "./_log.js";

/** Bounds on the turns waiting for one session (gateway.turnQueue). */
export interface TurnQueueLimits {
  maxWaitMs: number;
  maxQueued: number;
}

/** The 429 for a session whose turns queue past the bounds; the client should retry after `retryAfterSeconds` (sent as Retry-After). */
export function busyError(message: string, retryAfterSeconds: number): OpenclawError {
  return new OpenclawError("SESSION_BUSY", message, { userError: false, retryAfterSeconds });
}

/**
 * Queues the turns of each session: first in this process, in arrival order
 * (so only one of them at a time asks the store), then across processes,
 * through the session's turn lease in the store. Waiting is bounded: more
 * than maxQueued turns of one session waiting here, or a wait longer than
 * maxWaitMs, is a SESSION_BUSY (429) error, and nothing of that turn was run.
 */
export class TurnQueue {
  private readonly local = new KeyedMutex();
  private readonly waiting = new Map<string, number>();
  /** This process's name as a lease holder. */
  private readonly holder = `gw-${process.pid}-${randomBytes(6).toString("hex")}`;

  constructor(
    private readonly manager: SessionManager,
    private readonly limits: TurnQueueLimits,
    /** Stops every wait (the gateway shutting down). */
    private readonly stop: AbortSignal,
    /** Where a turn's arrival in the queue is noted (debug level), so an operator can see who waits. */
    private readonly log?: GatewayLog,
  ) {}

  /** Runs `fn` as session `id`'s next turn; `fn` gets the signal that fires if the lease is lost. */
  async run<T>(id: string, fn: (lost: AbortSignal) => Promise<T>): Promise<T> {
    const queued = this.waiting.get(id) ?? 0;
    if (queued >= this.limits.maxQueued) {
      throw busyError(`session ${id} already has ${queued} turns waiting (gateway.turnQueue.maxQueued); retry shortly`, 1);
    }
    this.waiting.set(id, queued + 1);
    this.log?.debug({ event: "turn_queued", sessionId: id, waiting: queued + 1 }, "turn queued");
    let started = false;
    const begin = (): void => {
      if (started) return;
      started = true;
      const n = (this.waiting.get(id) ?? 1) - 1;
      if (n === 0) this.waiting.delete(id);
      else this.waiting.set(id, n);
    };
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(new Error(`waited ${this.limits.maxWaitMs} ms`)), this.limits.maxWaitMs);
    const { signal: wait, dispose } = linkedSignal([timeout.signal, this.stop]);
    try {
      return await this.local.run(
        id,
        () =>
          this.manager.withTurn(
            id,
            (lost) => {
              begin();
              clearTimeout(timer);
              dispose();
              return fn(lost);
            },
            { holder: this.holder, signal: wait },
          ),
        wait,
      );
    } catch (err) {
      if (!started && timeout.signal.aborted && !this.stop.aborted && isOpenclawError(err, "ABORTED")) {
        throw busyError(`session ${id} was busy with other turns for ${this.limits.maxWaitMs} ms (gateway.turnQueue.maxWaitMs); retry shortly`, Math.min(5, Math.max(1, Math.ceil(this.limits.maxWaitMs / 1000))));
      }
      throw err;
    } finally {
      begin();
      clearTimeout(timer);
      dispose();
    }
  }
}
