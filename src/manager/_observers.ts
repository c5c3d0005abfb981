/** The store operations the manager times: a document read, a revision check, a whole-document commit, a messages-only append. */
export type StoreOp = "get" | "revision" | "commit" | "append";

/** One fold that ran (a plan with messages to fold), as an observer hears of it. */
export interface FoldTiming {
  sessionId: string;
  /** When it started (epoch milliseconds). */
  startedAt: number;
  ms: number;
  /** Messages folded into the summary (0 when the summarizer failed or the session moved on meanwhile). */
  folded: number;
  /** "ok", "failed" (every summarizer failed, nothing deleted) or "error" (a storage error or an abort). */
  outcome: "ok" | "failed" | "error";
}

/**
 * Receives timings of the manager's work, for whoever watches it (the
 * gateway's metrics and traces). Called synchronously where the work ends;
 * an observer that throws is ignored.
 */
export interface ManagerObserver {
  storeOp?(op: StoreOp, ms: number, ok: boolean): void;
  fold?(fold: FoldTiming): void;
}

/** The observers of one manager; timing costs nothing while there are none. */
export class Observers {
  private list: ManagerObserver[] = [];

  /** Adds an observer; returns the function that removes it. */
  add(observer: ManagerObserver): () => void {
    this.list = [...this.list, observer];
    return () => {
      this.list = this.list.filter((o) => o !== observer);
    };
  }

  /** Runs a store operation, timing it when anyone listens. */
  async time<T>(op: StoreOp, run: () => Promise<T>): Promise<T> {
    if (this.list.length === 0) return run();
    const started = performance.now();
    let ok = false;
    try {
      const result = await run();
      ok = true;
      return result;
    } finally {
      const ms = performance.now() - started;
      for (const o of this.list) quietly(() => o.storeOp?.(op, ms, ok));
    }
  }

  /** Reports a fold. */
  fold(fold: FoldTiming): void {
    for (const o of this.list) quietly(() => o.fold?.(fold));
  }

  /** True when anyone listens (so a caller can skip measuring). */
  get active(): boolean {
    return this.list.length > 0;
  }
}

function quietly(fn: () => void): void {
  try {
    fn();
  } catch {
    // An observer's failure is its own; the work it watched has happened.
  }
}
