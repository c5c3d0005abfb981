import { readdir, unlink } from "node:fs/promises";
import { storageError } from "../../errors.js";
import type { SessionStatus, SessionSummary } from "../../session/types.js";
import type { ListQuery } from "../store.js";
import { freshFromJournal, headPage, snapshotText, type Fresh } from "./_activity-index.js";
import { oneLine } from "../_document.js";
import type { StoreWarning } from "../store.js";
import type { DocumentFiles, SummaryRead } from "./_documents.js";
import { appendLines, fsyncDir, ignoreMissing, readNoFollow, writeAtomic, yieldToLoop } from "./_fs.js";
import type { FileKey, Op, OpMeta } from "./_index-format.js";
import { keyOf, opLines, parseOps, sameKey, snapshotEntries } from "./_index-format.js";
import type { Layout } from "./_paths.js";
import { docIdOf } from "./_paths.js";

/** The journal is folded into the snapshot once it outgrows this (~1000 lines of summaries), whatever the snapshot's size. */
export const DEFAULT_FOLD_BYTES = 400_000;
// A fixed bound, not a share of the snapshot: every page of the default list
// reads and parses the whole journal, so its size is what a page costs beyond
// the snapshot's head. At 100k sessions that rewrites a 35 MB snapshot every
// ~1000 whole-document saves or checkpoints (appends do not touch the index).
const READ_PARALLELISM = 16;
const ID_LENGTH = 36;
/** Length of `<id>.json`, a document's name. */
const DOC_NAME_LENGTH = ID_LENGTH + ".json".length;

interface Cache {
  snapshot: FileKey;
  journal: FileKey | undefined;
  map: Map<string, SessionSummary>;
}

/** Runs a function under the index lock (in-process queue + lock file). */
export type IndexLockRunner = <T>(fn: () => Promise<T>) => Promise<T>;

/** What a rebuild found: the documents it quarantined, and the message-file generation each header it read names (undefined: messages inline). */
export interface Rebuilt {
  quarantined: string[];
  generations: Map<string, number | undefined>;
}

/** A consistent picture of the index for a watcher: the summaries, the journal lines they include, and the files read. */
export interface IndexView {
  /** Every summary (snapshot plus journal); a copy the caller owns. */
  map: Map<string, SessionSummary>;
  /** The journal's operations, oldest first (they carry reasons and writers). */
  ops: Op[];
  snapshot: FileKey;
  /** The journal read, or undefined when there was none. */
  journal: FileKey | undefined;
}

/**
 * The derived index: a snapshot of summaries plus an append-only journal of
 * changes since, cached per process and checked against the directory
 * listing, so list never parses every document and can always be rebuilt.
 */
export class SessionIndex {
  private cache: Cache | undefined;
  /** Ids by routing key for one cached map, kept in step with it (see withKey). */
  private keyed: { map: Map<string, SessionSummary>; ids: Map<string, Set<string>> } | undefined;
  /** Whether this process has checked the index against the directory once (see withKey). */
  private reconciled = false;

  constructor(
    private readonly layout: Layout,
    private readonly locked: IndexLockRunner,
    private readonly docs: DocumentFiles,
    private readonly warn: StoreWarning,
    private readonly foldBytes: number = DEFAULT_FOLD_BYTES,
  ) {}

  /** Writes an empty snapshot for a store that has no documents yet, so its first list need not rebuild. */
  async initialize(): Promise<void> {
    if ((await keyOf(this.layout.snapshot)) !== undefined) return;
    await this.locked(async () => {
      if ((await keyOf(this.layout.snapshot)) !== undefined) return;
      if ((await this.docIds()).length > 0) return;
      await this.writeSnapshot(new Map());
    });
  }

  /**
   * Runs an index update for a change whose document is already safe, so a
   * failure must not fail the save: the snapshot is dropped, the next list
   * rebuilds it from the documents, and a warning says so.
   */
  async safely(id: string, update: () => Promise<void>): Promise<void> {
    try {
      await update();
    } catch (err) {
      const reason = oneLine(err instanceof Error ? err.message : String(err), 160);
      this.warn(`sessions/index.journal: could not record the change to session ${id} (${reason}); the index will be rebuilt on next list`);
      await unlink(this.layout.snapshot).catch(() => undefined);
    }
  }

  /** Records a saved document's summary, with why and by whom for watchers, and the status it had before (null: new) when known. */
  async recordPut(summary: SessionSummary, meta: OpMeta = {}, ps?: SessionStatus | null): Promise<void> {
    await this.append([{ op: "put", s: summary, ...meta, ...(ps === undefined ? {} : { ps }) }]);
  }

  /** Records a deleted document; `key` when known, so watchers can say which conversation went; `ps` its last status when known. */
  async recordDelete(id: string, meta: OpMeta = {}, key?: string, ps?: SessionStatus | null): Promise<void> {
    await this.append([{ op: "del", id, ...(key === undefined ? {} : { k: key }), ...meta, ...(ps === undefined ? {} : { ps }) }]);
  }

  /**
   * The first `want` entries of a default list and its total, read from the
   * snapshot's head plus the journal and `extra` (log records not yet
   * checkpointed); undefined when that cannot answer the query.
   */
  async page(query: ListQuery, want: number, extra: Map<string, Fresh>): Promise<{ candidates: SessionSummary[]; total: number } | undefined> {
    const before = await keyOf(this.layout.snapshot);
    if (before === undefined) return undefined;
    const journal = await readNoFollow(this.layout.journal).catch(() => undefined);
    const ops = journal === undefined ? [] : parseOps(journal);
    if (ops === undefined) return undefined;
    const fresh = new Map<string, Fresh>();
    if (!freshFromJournal(ops, fresh)) return undefined;
    for (const [id, f] of extra) {
      const before = fresh.get(id);
      fresh.set(id, { s: f.s, ps: before === undefined ? f.ps : before.ps });
    }
    const page = await headPage(this.layout.snapshot, query, want, fresh);
    // A fold between reading the journal and the snapshot would count its lines twice.
    return sameKey(before, await keyOf(this.layout.snapshot)) ? page : undefined;
  }

  /** The routing key this process last saw indexed for `id`, without any I/O; undefined when not cached. */
  cachedKey(id: string): string | undefined {
    return this.cache?.map.get(id)?.key;
  }

  /**
   * The index as it stands, read under the index lock so the snapshot and
   * journal agree (a fold between two unlocked reads could pair a new
   * snapshot with the journal it already contains). Rebuilds first when
   * either is unreadable, like list does.
   */
  async view(): Promise<IndexView> {
    return this.locked(async () => {
      const map = await this.loadLocked();
      const cache = this.cache;
      if (cache === undefined) throw storageError("read", this.layout.snapshot, new Error("index vanished while locked"));
      // loadLocked validated the journal under this same lock, so it parses again.
      const file = cache.journal === undefined ? undefined : await readNoFollow(this.layout.journal);
      const ops = file === undefined ? [] : (parseOps(file) ?? []);
      return { map: new Map(map), ops, snapshot: cache.snapshot, journal: file === undefined ? undefined : { ino: file.ino, size: file.size, mtimeMs: file.mtimeMs } };
    });
  }

  /** Every indexed summary, made to agree with the documents present in the directory. */
  async entries(): Promise<SessionSummary[]> {
    // The directory is read on the thread pool while this thread parses the index.
    const names = this.dirNames();
    names.catch(() => undefined);
    const map = await this.current();
    const missing: string[] = [];
    let present = 0;
    for (const name of await names) {
      // Most names are indexed documents: one lookup settles them; only the rest pay for the id check.
      if (name.length === DOC_NAME_LENGTH && name.endsWith(".json") && map.has(name.substring(0, ID_LENGTH))) present++;
      else {
        const doc = docIdOf(name);
        if (doc !== undefined) missing.push(doc);
      }
    }
    // Each present name is a distinct key of the map, so equal counts mean nothing indexed is gone.
    const gone: string[] = [];
    if (present !== map.size) {
      const onDisk = new Set((await names).map(docIdOf));
      for (const id of map.keys()) if (!onDisk.has(id)) gone.push(id);
    }
    if (missing.length > 0 || gone.length > 0) await this.repair(map, missing, gone);
    return [...map.values()];
  }

  /**
   * The indexed summaries of routing key `key`, without listing the
   * directory or scanning every summary: routing looks a key up on every
   * inbound message. The first call of a process checks the index against
   * the directory as `entries()` does (documents added or removed while
   * nothing ran); later ones follow the snapshot and journal, which every
   * writer updates.
   */
  async withKey(key: string): Promise<SessionSummary[]> {
    if (!this.reconciled) {
      await this.entries();
      this.reconciled = true;
    }
    const map = await this.current();
    if (this.keyed?.map !== map) {
      const ids = new Map<string, Set<string>>();
      for (const s of map.values()) addKey(ids, s);
      this.keyed = { map, ids };
    }
    const out: SessionSummary[] = [];
    for (const id of this.keyed.ids.get(key) ?? []) {
      const s = map.get(id);
      if (s !== undefined) out.push(s);
    }
    return out;
  }

  /** Rebuilds the index from the documents (quarantining corrupt ones). */
  async rebuild(): Promise<Rebuilt> {
    return this.locked(async () => {
      const { quarantined, generations } = await this.rebuildLocked();
      return { quarantined, generations };
    });
  }

  /** Names of the documents a rebuild would quarantine, changing nothing. */
  async corruptDocuments(): Promise<string[]> {
    const bad: string[] = [];
    for (const id of await this.docIds()) {
      if ((await this.docs.read(id, true)).state === "corrupt") bad.push(`${id}.json`);
    }
    return bad;
  }

  private async current(): Promise<Map<string, SessionSummary>> {
    const cache = this.cache;
    if (cache !== undefined) {
      const [snapshot, journal] = await Promise.all([keyOf(this.layout.snapshot), keyOf(this.layout.journal)]);
      if (sameKey(cache.snapshot, snapshot) && sameKey(cache.journal, journal)) return cache.map;
    }
    return this.locked(() => this.loadLocked());
  }

  private async loadLocked(): Promise<Map<string, SessionSummary>> {
    const cache = this.cache;
    const snapshot = await keyOf(this.layout.snapshot);
    if (snapshot === undefined) return (await this.rebuildLocked()).map;
    if (cache !== undefined && sameKey(cache.snapshot, snapshot)) {
      const journal = await keyOf(this.layout.journal);
      if (sameKey(cache.journal, journal)) return cache.map;
      // Between folds the journal only grows, so the cached prefix stays valid.
      if (journal !== undefined && cache.journal === undefined) return this.replayInto(cache.map, snapshot, 0);
      if (journal !== undefined && cache.journal !== undefined && journal.ino === cache.journal.ino && journal.size > cache.journal.size) {
        return this.replayInto(cache.map, snapshot, cache.journal.size);
      }
    }
    return this.reloadAll();
  }

  private async reloadAll(): Promise<Map<string, SessionSummary>> {
    const file = await readNoFollow(this.layout.snapshot).catch(() => undefined);
    if (file === undefined || !file.isFile) return (await this.rebuildLocked()).map;
    let entries: SessionSummary[] | undefined;
    try {
      entries = snapshotEntries(JSON.parse(file.data.toString("utf8")));
    } catch {
      entries = undefined;
    }
    if (entries === undefined) {
      this.warn("sessions/index.json: index snapshot is unreadable; rebuilding it from the session files");
      return (await this.rebuildLocked()).map;
    }
    const map = new Map<string, SessionSummary>();
    for (const e of entries) map.set(e.id, e);
    return this.replayInto(map, { ino: file.ino, size: file.size, mtimeMs: file.mtimeMs }, 0);
  }

  /** Applies journal lines from byte `from`; any torn or invalid line means a crash mid-append, so rebuild. */
  private async replayInto(map: Map<string, SessionSummary>, snapshot: FileKey, from: number): Promise<Map<string, SessionSummary>> {
    const file = await readNoFollow(this.layout.journal, from);
    let journal: FileKey | undefined;
    if (file !== undefined) {
      const ops = parseOps(file);
      if (ops === undefined) return (await this.rebuildLocked()).map;
      for (const op of ops) {
        if (op.op === "put") this.put(map, op.s);
        else this.remove(map, op.id);
      }
      journal = { ino: file.ino, size: file.size, mtimeMs: file.mtimeMs };
    }
    this.cache = { snapshot, journal, map };
    return map;
  }

  private async rebuildLocked(): Promise<Rebuilt & { map: Map<string, SessionSummary> }> {
    const map = new Map<string, SessionSummary>();
    const quarantined: string[] = [];
    const generations = new Map<string, number | undefined>();
    const ids = await this.docIds();
    for (let i = 0; i < ids.length; i += READ_PARALLELISM) {
      const batch = ids.slice(i, i + READ_PARALLELISM);
      const reads = await Promise.all(batch.map((id) => this.readForIndex(id)));
      // Headers are read synchronously: let timers and other I/O in between batches.
      await yieldToLoop();
      reads.forEach((r, j) => {
        if (r.state === "ok") {
          map.set(r.summary.id, r.summary);
          generations.set(r.summary.id, r.gen);
        } else if (r.state === "corrupt" && r.quarantinedAs !== undefined) quarantined.push(`${batch[j] ?? "?"}.json`);
      });
    }
    await this.writeSnapshot(map);
    return { map, quarantined, generations };
  }

  /** Writes `map` as the snapshot and drops the journal it supersedes (caller holds the index lock). */
  private async writeSnapshot(map: Map<string, SessionSummary>): Promise<void> {
    await writeAtomic(this.layout.snapshot, snapshotText(map.values()), "index");
    await unlink(this.layout.journal).catch(ignoreMissing);
    await fsyncDir(this.layout.sessions);
    const snapshot = await keyOf(this.layout.snapshot);
    this.cache = snapshot === undefined ? undefined : { snapshot, journal: undefined, map };
  }

  private async append(ops: Op[]): Promise<void> {
    if (ops.length === 0) return;
    const text = opLines(ops);
    await this.locked(async () => {
      const size = await appendLines(this.layout.journal, text, false);
      if (size > this.foldBytes) {
        await this.writeSnapshot(await this.loadLocked());
      }
    });
  }

  /**
   * Brings the index in line with files added or removed behind its back.
   * Each repair is re-checked under the lock so a racing writer's newer
   * journal line is never followed by an older one.
   */
  private async repair(map: Map<string, SessionSummary>, missing: string[], gone: string[]): Promise<void> {
    const added: SessionSummary[] = [];
    for (const id of missing) {
      const r = await this.readForIndex(id);
      if (r.state === "ok") added.push(r.summary);
    }
    for (const s of added) this.put(map, s);
    const goneStatus = new Map(gone.map((id) => [id, map.get(id)?.status ?? null]));
    for (const id of gone) this.remove(map, id);
    try {
      await this.locked(async () => {
        const ops: Op[] = [];
        for (const s of added) {
          if ((await this.docs.revision(s.id)) === s.revision) ops.push({ op: "put", s, ps: null });
        }
        for (const id of gone) {
          if ((await keyOf(this.layout.doc(id))) === undefined) ops.push({ op: "del", id, ps: goneStatus.get(id) ?? null });
        }
        if (ops.length === 0) return;
        // Repairs carry no writer: no instance made these changes, so every watcher reports them.
        await appendLines(this.layout.journal, opLines(ops), false);
      });
    } catch (err) {
      this.warn(`sessions/index.journal: could not record index repairs (${oneLine(err instanceof Error ? err.message : String(err), 160)}); list stays correct`);
    }
  }

  /** Sets a summary in `map`, and in the key lookup when it was built from that map. */
  private put(map: Map<string, SessionSummary>, s: SessionSummary): void {
    const ids = this.keyed?.map === map ? this.keyed.ids : undefined;
    const before = map.get(s.id);
    if (ids !== undefined && before !== undefined && before.key !== s.key) ids.get(before.key)?.delete(s.id);
    map.set(s.id, s);
    if (ids !== undefined) addKey(ids, s);
  }

  /** Removes a summary from `map`, and from the key lookup when it was built from that map. */
  private remove(map: Map<string, SessionSummary>, id: string): void {
    const before = map.get(id);
    if (before !== undefined && this.keyed?.map === map) this.keyed.ids.get(before.key)?.delete(id);
    map.delete(id);
  }

  /** One unreadable document (permissions, I/O) must not make the whole store unlistable. */
  private async readForIndex(id: string): Promise<SummaryRead> {
    try {
      return await this.docs.summary(id);
    } catch (err) {
      this.warn(`sessions/${id}.json: cannot be read (${oneLine(err instanceof Error ? err.message : String(err), 160)}); left out of the list`);
      return { state: "absent" };
    }
  }

  private async docIds(): Promise<string[]> {
    return (await this.dirNames()).map(docIdOf).filter((id): id is string => id !== undefined);
  }

  private async dirNames(): Promise<string[]> {
    try {
      return await readdir(this.layout.sessions);
    } catch (err) {
      throw storageError("list", this.layout.sessions, err);
    }
  }
}

function addKey(ids: Map<string, Set<string>>, s: SessionSummary): void {
  const set = ids.get(s.key);
  if (set === undefined) ids.set(s.key, new Set([s.id]));
  else set.add(s.id);
}
