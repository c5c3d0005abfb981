/**
 * Answers remembered by text, at most `limit` of them, the least recently
 * used dropped first (approximately: in two generations, so a hit costs one
 * lookup instead of reordering a map). The rolling summary's notes are
 * looked at again at every fold (scanned, classified, counted): remembering
 * recent answers makes a fold cost what its new messages cost.
 */
export class TextMemo<T> {
  /** Answers set or used since the last turn of generations. */
  private young = new Map<string, T>();
  /** The generation before: an answer used again moves to `young`; the rest go at the next turn. */
  private old = new Map<string, T>();
  private readonly half: number;

  constructor(limit: number) {
    this.half = Math.max(1, Math.floor(limit / 2));
  }

  /** The answer remembered for `text`, marked recently used. */
  get(text: string): T | undefined {
    const value = this.young.get(text);
    if (value !== undefined) return value;
    const older = this.old.get(text);
    if (older !== undefined) this.set(text, older);
    return older;
  }

  /** Remembers `value` for `text`; when the young generation is full it becomes the old one and the old one is dropped. */
  set(text: string, value: T): void {
    this.young.set(text, value);
    if (this.young.size >= this.half) {
      this.old = this.young;
      this.young = new Map();
    }
  }

  /** The remembered answer for `text`, or `compute()`'s, remembered. */
  remember(text: string, compute: () => T): T {
    const known = this.get(text);
    if (known !== undefined) return known;
    const value = compute();
    this.set(text, value);
    return value;
  }
}
