import type { ChangeReason, SessionStore, StoreChange } from "../store/store.js";

const MAX_TRACKED = 50_000;

/** A change to a session, as `manager.subscribe` delivers it. */
export interface SessionEvent {
  /** What happened: created, appended, edited, compacted, archived, unarchived, expired, cleared, imported or deleted. */
  type: ChangeReason;
  id: string;
  key: string;
  /** The session's revision after the change (0 once deleted). */
  revision: number;
  /** When this process learned of it. */
  at: string;
  /** "local" when made through this manager, "remote" when another process or store instance made it. */
  origin: "local" | "remote";
}

/** Receives session events. */
export type SessionListener = (event: SessionEvent) => void;

/**
 * Fans events out to subscribers, in order per session: an event older than
 * one already delivered for the same session (by revision) is dropped, so a
 * remote change seen after a newer local one never arrives out of order.
 */
export class EventHub {
  private readonly listeners = new Set<SessionListener>();
  private readonly delivered = new Map<string, number>();
  private unwatch: (() => void) | undefined;

  constructor(
    private readonly store: SessionStore,
    private readonly now: () => Date,
  ) {}

  /** Adds a listener; returns the function that removes it. Other processes' changes are watched while anyone listens. */
  subscribe(listener: SessionListener): () => void {
    this.listeners.add(listener);
    if (this.unwatch === undefined) {
      this.unwatch = this.store.watch((change) => this.publish(change, "remote"));
    }
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.stop();
    };
  }

  /** Delivers a change to every listener (a listener that throws does not stop the others). */
  publish(change: StoreChange, origin: "local" | "remote"): void {
    const last = this.delivered.get(change.id);
    if (change.reason === "deleted") this.delivered.delete(change.id);
    else if (last !== undefined && change.revision <= last && change.reason !== "created") return;
    else {
      this.delivered.delete(change.id);
      this.delivered.set(change.id, change.revision);
      // Bounded: the oldest sessions' revisions are forgotten first.
      if (this.delivered.size > MAX_TRACKED) this.delivered.delete(this.delivered.keys().next().value as string);
    }
    if (this.listeners.size === 0) return;
    const event: SessionEvent = { type: change.reason, id: change.id, key: change.key, revision: change.revision, at: this.now().toISOString(), origin };
    for (const l of [...this.listeners]) {
      try {
        l({ ...event });
      } catch {
        // A listener's failure is its own; the change has happened.
      }
    }
  }

  /** Stops watching the store and drops every listener. */
  stop(): void {
    this.unwatch?.();
    this.unwatch = undefined;
  }

  /** Removes every listener and stops watching. */
  close(): void {
    this.listeners.clear();
    this.stop();
  }
}
