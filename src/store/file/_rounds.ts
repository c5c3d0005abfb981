/**
 * A session written again in the round right after its checkpoint (one
 * written without pause) waits this many rounds for the next: its document
 * is rewritten every few seconds instead of every second, and the flushes a
 * checkpoint adds stay out of the way of its appends.
 */
export const HOT_ROUNDS = 4;

/**
 * Which sessions each checkpoint round takes: a session with new records
 * waits one round, or {@link HOT_ROUNDS} when the previous round
 * checkpointed it. Holds only sessions with records waiting and the last
 * round's, so it stays small however many sessions a process has served.
 */
export class CheckpointRounds {
  /** Sessions with records to checkpoint, and how many more rounds each waits. */
  private readonly due = new Map<string, number>();
  /** Sessions the latest round took. */
  private last = new Set<string>();

  /** Notes that `id` has records its document lacks. */
  add(id: string): void {
    if (!this.due.has(id)) this.due.set(id, this.last.has(id) ? HOT_ROUNDS : 1);
  }

  /** True when a round has anything to do or wait for. */
  get pending(): boolean {
    return this.due.size > 0;
  }

  /** Ends a round: the sessions to checkpoint now. */
  take(): string[] {
    const ids: string[] = [];
    for (const [id, left] of this.due) {
      if (left > 1) this.due.set(id, left - 1);
      else {
        ids.push(id);
        this.due.delete(id);
      }
    }
    this.last = new Set(ids);
    return ids;
  }

  /** Forgets everything waiting (the store closes: it checkpoints every session itself). */
  clear(): void {
    this.due.clear();
  }
}
