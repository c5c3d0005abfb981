/**
 * Answers remembered by text, at most `limit` of them, the least recently
 * used dropped first. The rolling summary's notes are looked at again at
 * every fold (scanned, classified, counted): remembering recent answers makes
 * a fold cost what its new messages cost.
 */
export class TextMemo<T> {
  private readonly entries = new Map<string, T>();

  constructor(private readonly limit: number) {}

  /** The answer remembered for `text`, marked most recently used. */
  get(text: string): T | undefined {
    const value = this.entries.get(text);
    if (value === undefined) return undefined;
    this.entries.delete(text);
    this.entries.set(text, value);
    return value;
  }

  /** Remembers `value` for `text`, dropping the least recently used answer when full. */
  set(text: string, value: T): void {
    this.entries.delete(text);
    if (this.entries.size >= this.limit) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(text, value);
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
