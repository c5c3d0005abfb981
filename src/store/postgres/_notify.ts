import type { Client } from "pg";
import type { ChangeReason, StoreChange, StoreWarning } from "../store.js";

/** How the listener makes its own connection (not from the pool: LISTEN needs one held for good). */
export type ClientFactory = () => Client;

const REASONS = new Set<string>(["created", "appended", "edited", "compacted", "archived", "unarchived", "expired", "cleared", "imported", "deleted"]);
const MAX_BACKOFF_MS = 5000;

/** Settings a listener needs. */
export interface ListenerOptions {
  makeClient: ClientFactory;
  channel: string;
  /** This store instance's id: its own notifications are not delivered. */
  instance: string;
  warn: StoreWarning;
  /** Turns a driver error into a message without credentials. */
  describe: (err: unknown) => string;
}

/**
 * LISTENs on the store's channel while anyone watches, on a dedicated
 * connection, and hands other instances' changes to the watchers. A dropped
 * connection is re-established with a growing pause; changes committed while
 * it was down are not replayed (a watcher sees the next ones).
 */
export class ChangeListener {
  private readonly listeners = new Set<(change: StoreChange) => void>();
  private client: Client | undefined;
  private timer: NodeJS.Timeout | undefined;
  private backoffMs = 100;
  private stopped = false;
  private warned = false;
  /** Settles when the current LISTEN is in place (or failed); undefined when none is pending. */
  pending: Promise<void> | undefined;

  constructor(private readonly options: ListenerOptions) {}

  /** Adds a watcher, starting the connection with the first one; returns its removal. */
  add(fn: (change: StoreChange) => void): () => void {
    this.listeners.add(fn);
    if (this.listeners.size === 1 && this.client === undefined && this.timer === undefined) this.start();
    return () => {
      if (!this.listeners.delete(fn) || this.listeners.size > 0) return;
      void this.disconnect();
    };
  }

  /** Stops for good. */
  async close(): Promise<void> {
    this.stopped = true;
    this.listeners.clear();
    await this.disconnect();
  }

  private start(): void {
    if (this.stopped || this.listeners.size === 0) return;
    const client = this.options.makeClient();
    this.client = client;
    const dropped = (err: unknown) => {
      if (this.client !== client) return;
      this.client = undefined;
      client.removeAllListeners("notification");
      client.end().catch(() => undefined);
      if (!this.warned) {
        this.warned = true;
        this.options.warn(`postgres change notifications interrupted (${this.options.describe(err)}); reconnecting`);
      }
      this.schedule();
    };
    client.on("error", dropped);
    client.on("end", () => dropped(new Error("Connection terminated unexpectedly")));
    client.on("notification", (msg) => {
      if (msg.channel === this.options.channel && msg.payload !== undefined) this.deliver(msg.payload);
    });
    const ready = client
      .connect()
      .then(() => client.query(`LISTEN ${client.escapeIdentifier(this.options.channel)}`))
      .then(() => {
        this.backoffMs = 100;
        if (this.warned) this.options.warn("postgres change notifications resumed");
        this.warned = false;
      })
      .catch((err: unknown) => dropped(err));
    const tracked: Promise<void> = ready.finally(() => {
      if (this.pending === tracked) this.pending = undefined;
    });
    this.pending = tracked;
  }

  private schedule(): void {
    if (this.stopped || this.listeners.size === 0 || this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.start();
    }, this.backoffMs);
    this.timer.unref();
    this.backoffMs = Math.min(this.backoffMs * 2, MAX_BACKOFF_MS);
  }

  private async disconnect(): Promise<void> {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const client = this.client;
    this.client = undefined;
    this.pending = undefined;
    if (client === undefined) return;
    client.removeAllListeners("notification");
    await client.end().catch(() => undefined);
  }

  private deliver(payload: string): void {
    let parsed: { id?: unknown; key?: unknown; revision?: unknown; reason?: unknown; instance?: unknown };
    try {
      parsed = JSON.parse(payload) as typeof parsed;
    } catch {
      return;
    }
    if (parsed.instance === this.options.instance || typeof parsed.id !== "string" || typeof parsed.reason !== "string" || !REASONS.has(parsed.reason)) return;
    const change: StoreChange = {
      id: parsed.id,
      key: typeof parsed.key === "string" ? parsed.key : "",
      revision: typeof parsed.revision === "number" ? parsed.revision : 0,
      reason: parsed.reason as ChangeReason,
    };
    for (const fn of [...this.listeners]) {
      try {
        fn({ ...change });
      } catch {
        // A watcher's failure is its own; the others still hear of the change.
      }
    }
  }
}
