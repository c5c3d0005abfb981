import type { Commit, HeldLock, ListPage, ListQuery, Loaded, SessionStore, TurnLeases } from "../../src/store/store.js";
import { MemoryData, MemoryStore } from "../../src/store/memory/memory-store.js";
import type { Message, Session } from "../../src/session/types.js";

/**
 * A backend with the required core only and no optional capability, so the
 * suites exercise every fallback of the manager. It keeps its data in memory,
 * shareable between instances like a store shared by several processes.
 */
export class BareStore implements SessionStore {
  readonly kind = "bare";
  private readonly inner: MemoryStore;

  constructor(data: MemoryData = new MemoryData()) {
    this.inner = new MemoryStore(data);
  }

  get(id: string): Promise<Loaded | undefined> {
    return this.inner.get(id);
  }
  commit(change: Commit): Promise<Session> {
    return this.inner.commit(change);
  }
  delete(id: string, held?: HeldLock, expectedRevision?: number): Promise<boolean> {
    return this.inner.delete(id, held, expectedRevision);
  }
  list(query?: ListQuery): Promise<ListPage> {
    return this.inner.list(query);
  }
  get turnLeases(): TurnLeases {
    return this.inner.turnLeases;
  }
  readPruned(id: string): Promise<Message[]> {
    return this.inner.readPruned(id);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

/** Opens a bare store and how to open a second instance on the same data. */
export function openBare(): { store: BareStore; reopen: () => Promise<BareStore> } {
  const data = new MemoryData();
  return { store: new BareStore(data), reopen: async () => new BareStore(data) };
}
