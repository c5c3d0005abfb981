/** Sends a batch of payloads on the store's channel, in order, as one statement. */
export type SendBatch = (payloads: string[]) => Promise<void>;

/** Most payloads one statement carries (each is a small JSON object). */
const MAX_BATCH = 500;

/**
 * Change notifications, sent after the change committed instead of inside
 * its transaction. PostgreSQL serialises the commits of every transaction
 * that issued NOTIFY on one database-wide lock held across the WAL flush,
 * which made concurrent writers commit one at a time; sent here they go out
 * in a separate, asynchronously committed statement, batched while one is in
 * flight. Notifications were never durable (a listener that is down misses
 * them); a process that dies between a commit and its send misses one too.
 */
export class NotifyOutbox {
  private queue: string[] = [];
  private draining: Promise<void> | undefined;

  constructor(
    private readonly send: SendBatch,
    private readonly failed: (err: unknown) => void,
  ) {}

  /** Queues a payload; sent in the order posted. */
  post(payload: string): void {
    this.queue.push(payload);
    // Started on the next microtask, so the posts of one tick share a statement.
    this.draining ??= Promise.resolve().then(() => this.drain());
  }

  /** Resolves once everything posted so far was sent (or failed). */
  async idle(): Promise<void> {
    while (this.draining !== undefined) await this.draining;
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, MAX_BATCH);
        try {
          await this.send(batch);
        } catch (err) {
          this.failed(err);
        }
      }
    } finally {
      this.draining = undefined;
    }
  }
}
