import type { SessionManager } from "../manager/manager.js";
import type { SessionEvent } from "../manager/events.js";

/** A session event with the sequence number a client resumes from (`Last-Event-ID`). */
export interface LoggedEvent {
  seq: number;
  event: SessionEvent;
}

/**
 * The engine's change events, numbered and kept in a bounded ring so an SSE
 * client that reconnects with `Last-Event-ID` gets what it missed (or is told
 * the gap is too old, and reloads).
 */
export class EventLog {
  private readonly ring: LoggedEvent[] = [];
  // Starts from the clock (µs), not 1: after a gateway restart a client's old
  // Last-Event-ID is then below anything this run issues and is recognised as
  // a gap, instead of silently matching an unrelated event of the new run.
  private next = Date.now() * 1000 + 1;
  private readonly listeners = new Set<(e: LoggedEvent) => void>();
  private readonly stop: () => void;

  constructor(
    manager: SessionManager,
    private readonly capacity = 10_000,
  ) {
    this.stop = manager.subscribe((event) => this.push(event));
  }

  /** Sequence number of the oldest event still kept (0 when none). */
  get oldest(): number {
    return this.ring[0]?.seq ?? 0;
  }

  /** Sequence number of the newest event issued (one less than the first when none yet). */
  get latest(): number {
    return this.next - 1;
  }

  /** Events after `seq`, oldest first; `complete` is false when some were already dropped. */
  since(seq: number): { events: LoggedEvent[]; complete: boolean } {
    const events = this.ring.filter((e) => e.seq > seq);
    const complete = this.ring.length === 0 || seq >= this.oldest - 1;
    return { events, complete };
  }

  /** Calls `fn` for every new event; returns the unsubscribe function. */
  listen(fn: (e: LoggedEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Stops following the manager and drops listeners. */
  close(): void {
    this.stop();
    this.listeners.clear();
  }

  private push(event: SessionEvent): void {
    const logged = { seq: this.next++, event };
    this.ring.push(logged);
    if (this.ring.length > this.capacity) this.ring.shift();
    for (const l of [...this.listeners]) {
      try {
        l(logged);
      } catch {
        // One slow or broken client never stops the others.
      }
    }
  }
}
