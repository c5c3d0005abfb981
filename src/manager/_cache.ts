import type { Session } from "../session/types.js";

/** Freezes a document and everything in it, so a cached copy can be handed out without being changed behind the cache's back. */
export function deepFreeze<T>(value: T): T {
  if (typeof value !== "object" || value === null || Object.isFrozen(value)) return value;
  Object.freeze(value);
  // A saved document is mostly parts already frozen (its cached messages): only the new ones are walked.
  if (Array.isArray(value)) for (const v of value as unknown[]) deepFreeze(v);
  else for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  return value;
}

/**
 * The last loaded or saved documents, least recently used dropped first, at
 * most `capacity` of them. Entries are frozen; a user of one must check its
 * revision against the store (or rely on the commit's revision check).
 */
export class SessionCache {
  private readonly entries = new Map<string, Session>();

  constructor(private readonly capacity: number) {}

  /** The cached document, marked most recently used. */
  get(id: string): Session | undefined {
    const doc = this.entries.get(id);
    if (doc === undefined) return undefined;
    this.entries.delete(id);
    this.entries.set(id, doc);
    return doc;
  }

  /** Remembers a document (frozen); returns it. */
  set(doc: Session): Session {
    if (this.capacity <= 0) return doc;
    const frozen = deepFreeze(doc);
    const previous = this.entries.get(doc.id);
    // An older revision never replaces a newer one (two paths can finish out of order).
    if (previous !== undefined && previous.revision > doc.revision) return frozen;
    this.entries.delete(doc.id);
    this.entries.set(doc.id, frozen);
    while (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
    return frozen;
  }

  /**
   * Remembers a document made by appending to `base` (a cached, frozen
   * document): only what is new in it is frozen (its new messages, and
   * the header fields that are not `base`'s own frozen values), so an append
   * costs the same whatever the history's length.
   */
  setAppended(doc: Session, base: Session): Session {
    if (this.capacity <= 0 || !Object.isFrozen(base.messages)) return this.set(doc);
    for (let i = doc.messages.length - 1; i >= base.messages.length; i--) deepFreeze(doc.messages[i]);
    Object.freeze(doc.messages);
    for (const key of Object.keys(doc) as (keyof Session)[]) if (key !== "messages") deepFreeze(doc[key]);
    return this.set(doc);
  }

  /** Forgets a document. */
  drop(id: string): void {
    this.entries.delete(id);
  }

  /** How many documents are held. */
  get size(): number {
    return this.entries.size;
  }
}
