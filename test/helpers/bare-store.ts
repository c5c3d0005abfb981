import type { Appended, Commit, HeaderChange, HeldLock, ListPage, ListQuery, Loaded, MaintenanceReport, SessionStore, StoreChange, StoreDescription, StoreStats, TurnLeases } from "../../src/store/store.js";
import { MemoryData, MemoryStore } from "../../src/store/memory/memory-store.js";
import type { Message, Session, SessionSummary } from "../../src/session/types.js";

/**
 * A backend with the required contract only and neither optional
 * capability (no cross-process lock, no encryption), so the suites exercise
 * the manager's fallbacks for them: optimistic writes retried on CONFLICT,
 * routing serialised by the store's find-or-create alone. It keeps its data
 * in memory, shareable between instances like a store shared by several
 * processes.
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
  appendMessages(id: string, baseRevision: number, header: HeaderChange, messages: readonly Message[], held?: HeldLock): Promise<Appended> {
    return this.inner.appendMessages(id, baseRevision, header, messages, held);
  }
  delete(id: string, held?: HeldLock, expectedRevision?: number): Promise<boolean> {
    return this.inner.delete(id, held, expectedRevision);
  }
  list(query?: ListQuery): Promise<ListPage> {
    return this.inner.list(query);
  }
  readPruned(id: string): Promise<Message[]> {
    return this.inner.readPruned(id);
  }
  revisionOf(id: string): Promise<number | null> {
    return this.inner.revisionOf(id);
  }
  findOrCreateLive(key: string, expiryCutoff: string | null, create: () => Session | Promise<Session>): Promise<{ session: Session; created: boolean }> {
    return this.inner.findOrCreateLive(key, expiryCutoff, create);
  }
  stats(expiryCutoff: string | null): Promise<StoreStats> {
    return this.inner.stats(expiryCutoff);
  }
  findByIdPrefix(prefix: string, limit: number): Promise<SessionSummary[]> {
    return this.inner.findByIdPrefix(prefix, limit);
  }
  async describe(): Promise<StoreDescription> {
    return { ...(await this.inner.describe()), backend: this.kind };
  }
  maintain(options?: { dryRun?: boolean }): Promise<MaintenanceReport> {
    return this.inner.maintain(options);
  }
  sizeOnDisk(): Promise<number> {
    return this.inner.sizeOnDisk();
  }
  watch(listener: (change: StoreChange) => void): () => void {
    return this.inner.watch(listener);
  }
  mayContain(id: string, text: string, pruned: boolean): Promise<boolean> {
    return this.inner.mayContain(id, text, pruned);
  }
  get turnLeases(): TurnLeases {
    return this.inner.turnLeases;
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
