import { lstatSync } from "node:fs";
import type { SessionSummary } from "../../session/types.js";
import { inferReason, oneLine } from "../_document.js";
import type { StoreChange, StoreWarning } from "../store.js";
import { readNoFollow } from "./_fs.js";
import type { IndexView, SessionIndex } from "./_index.js";
import type { FileKey, Op } from "./_index-format.js";
import { keyOf, parseLines, sameKey } from "./_index-format.js";
import type { Layout } from "./_paths.js";
import type { LogRecord } from "./_log-format.js";

/** Default pause between two looks at the index while someone is watching. */
export const DEFAULT_WATCH_INTERVAL_MS = 100;

/** Where the watcher has read up to, and the summaries as of that point. */
interface Position {
  snapshot: FileKey;
  /** Inode of the journal being followed; undefined when there was none after this snapshot. */
  journalIno: number | undefined;
  /** Bytes of that journal already delivered (always at a line boundary). */
  offset: number;
  known: Map<string, SessionSummary>;
}

/** What a watcher needs from its store. */
export interface WatchSource {
  layout: Layout;
  index: SessionIndex;
  /** This store instance's writer id, as written in the journal's `w` field. */
  writer: string;
  intervalMs: number;
  warn: StoreWarning;
  /** Prepares the directories, so watching a store not yet used works. */
  ready: () => Promise<void>;
  /** Reads new log records; the store hands each to {@link IndexWatcher.record}. */
  followLog: () => void;
}

/**
 * Polls the index for changes written by other store instances and hands
 * them to listeners. Following the journal's tail keeps each change's
 * reason; after a fold or rebuild the summaries are diffed instead. The
 * instance's own changes are recognised by the journal's writer id, and by
 * the revisions it noted for changes a fold swallowed before they were seen.
 */
export class IndexWatcher {
  private readonly listeners = new Set<{ fn: (change: StoreChange) => void }>();
  /** Revision (0: deleted) of this instance's latest change per id that the watcher has not yet passed. */
  private readonly own = new Map<string, number>();
  private position: Position | undefined;
  /** The index files as they were when watching started (read synchronously): the baseline, read later, must not swallow what came after. */
  private startedAt: { snapshot: FileKey | undefined; journal: FileKey | undefined } | undefined;
  /** Other instances' records of sessions whose creation the watcher has not followed yet. */
  private readonly early = new Map<string, LogRecord[]>();
  private timer: NodeJS.Timeout | undefined;
  /** Bumped on every start and stop, so a poll still running from an earlier start drops its result. */
  private generation = 0;
  private failing = false;

  constructor(private readonly source: WatchSource) {}

  /** True while at least one listener is registered. */
  get active(): boolean {
    return this.listeners.size > 0;
  }

  /** Registers a listener (starting the polling with the first one); returns its removal. */
  add(fn: (change: StoreChange) => void): () => void {
    // A wrapper per call, so the same function registered twice is removed once per unsubscribe.
    const entry = { fn };
    this.listeners.add(entry);
    if (this.listeners.size === 1) this.start();
    return () => {
      if (this.listeners.delete(entry) && this.listeners.size === 0) this.stop();
    };
  }

  /**
   * Notes a change this instance is publishing, before its journal line
   * exists, so no poll can report it. Noted even while nobody listens: a
   * watch started while the write is in flight must still know it.
   */
  noteOwn(id: string, revision: number): void {
    this.own.set(id, revision);
  }

  /** The change noted by {@link noteOwn} is in the journal; with nobody watching, the note is no longer needed. */
  ownDone(id: string, revision: number): void {
    if (!this.active && this.own.get(id) === revision) this.own.delete(id);
  }

  /**
   * A log record learnt by this instance: an append another instance made
   * is delivered now rather than when its checkpoint reaches the index; the
   * checkpoint's index line then says nothing new. Own records only move the
   * baseline, so a later diff does not report them.
   */
  record(record: LogRecord, own: boolean): void {
    const pos = this.position;
    if (pos === undefined || !this.active) return;
    const before = pos.known.get(record.id);
    if (before === undefined) {
      // Its creation is not followed yet: delivered once it is.
      if (!own) this.early.set(record.id, [...(this.early.get(record.id) ?? []), record]);
      return;
    }
    if (before.revision >= record.rev) return;
    pos.known.set(record.id, record.s);
    if (!own) this.emit({ id: record.id, key: record.s.key, revision: record.rev, reason: record.f !== undefined ? "compacted" : "appended" }, undefined);
  }

  /** Drops every listener and stops polling. */
  close(): void {
    this.listeners.clear();
    this.stop();
  }

  private start(): void {
    const generation = ++this.generation;
    // A chain of timeouts rather than an interval: a reload after a fold can
    // outlast the interval, and polls must never overlap.
    const tick = async (): Promise<void> => {
      try {
        await this.poll(generation);
        this.failing = false;
      } catch (err) {
        // One warning per run of failures (e.g. the directory is gone), not one per poll.
        if (!this.failing && generation === this.generation) {
          this.source.warn(`sessions/index.journal: cannot check for changes by other processes (${oneLine(err instanceof Error ? err.message : String(err), 160)}); retrying`);
        }
        this.failing = true;
      }
      if (generation !== this.generation) return;
      this.timer = setTimeout(() => void tick(), this.source.intervalMs);
      this.timer.unref();
    };
    // Changes committed after watch() returns must be delivered: the baseline is read asynchronously, so
    // where the index files stood at this moment is noted now, and what the baseline holds past it is delivered.
    this.startedAt = { snapshot: keyOfSync(this.source.layout.snapshot), journal: keyOfSync(this.source.layout.journal) };
    void tick();
  }

  private stop(): void {
    this.generation++;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.position = undefined;
    this.own.clear();
    this.early.clear();
  }

  private async poll(generation: number): Promise<void> {
    await this.pollIndex(generation);
    // After the index, so a session's creation is known before its appends arrive.
    if (generation === this.generation && this.position !== undefined) this.source.followLog();
  }

  private async pollIndex(generation: number): Promise<void> {
    const pos = this.position;
    if (pos === undefined) {
      await this.source.ready();
      const view = await this.source.index.view();
      if (generation !== this.generation) return;
      this.position = positionOf(view);
      await this.sinceStart(view, generation);
      return;
    }
    const { layout } = this.source;
    const [snapshot, journal] = await Promise.all([keyOf(layout.snapshot), keyOf(layout.journal)]);
    if (generation !== this.generation) return;
    if (snapshot !== undefined && sameKey(snapshot, pos.snapshot)) {
      if (journal === undefined && pos.journalIno === undefined) return;
      if (journal !== undefined && (pos.journalIno === undefined || journal.ino === pos.journalIno)) {
        if (journal.size === pos.offset) return;
        // A journal only grows between folds; a shorter one was rewritten behind our back.
        if (journal.size > pos.offset && (await this.readTail(pos, generation))) return;
      }
    }
    // The snapshot was rewritten (fold, rebuild) or the journal replaced: start over from a consistent view.
    const view = await this.source.index.view();
    if (generation !== this.generation) return;
    this.diff(pos.known, view);
    this.position = positionOf(view);
  }

  /**
   * Delivers the journal lines the baseline `view` holds beyond where the
   * journal stood when watching started (their summaries are already in the
   * baseline, so later polls would not report them). Only while the
   * snapshot is the one seen at the start: after a fold in between, what
   * came after cannot be told apart.
   */
  private async sinceStart(view: IndexView, generation: number): Promise<void> {
    const start = this.startedAt;
    this.startedAt = undefined;
    if (start === undefined || !sameKey(start.snapshot, view.snapshot) || view.journal === undefined) return;
    const from = start.journal === undefined ? 0 : start.journal.ino === view.journal.ino ? start.journal.size : undefined;
    if (from === undefined || view.journal.size <= from) return;
    const file = await readNoFollow(this.source.layout.journal, from);
    if (generation !== this.generation || file === undefined || file.ino !== view.journal.ino) return;
    const data = file.data.subarray(0, view.journal.size - from);
    const ops = parseLines(data.subarray(0, data.lastIndexOf(0x0a) + 1).toString("utf8")) ?? [];
    const keys = new Map<string, string>();
    for (const op of ops) {
      if (op.op === "put") {
        keys.set(op.s.id, op.s.key);
        this.emitSteps(undefined, op.s, op.r ?? inferReason(undefined, op.s), op.w);
        continue;
      }
      // A line of an earlier version names no key: known only when this batch put the session.
      const key = op.k ?? keys.get(op.id);
      if (key !== undefined) this.emit({ id: op.id, key, revision: 0, reason: "deleted" }, op.w);
    }
  }

  /** Delivers the journal lines after `pos`; false when the journal is not the one followed or cannot be trusted. */
  private async readTail(pos: Position, generation: number): Promise<boolean> {
    const file = await readNoFollow(this.source.layout.journal, pos.offset);
    if (generation !== this.generation) return true;
    if (file === undefined || !file.isFile || (pos.journalIno !== undefined && file.ino !== pos.journalIno)) return false;
    if (pos.journalIno === undefined && pos.offset !== 0) return false;
    // A writer may be mid-append: take whole lines only and come back for the rest.
    const end = file.data.lastIndexOf(0x0a) + 1;
    if (end === 0) return true;
    const ops = parseLines(file.data.subarray(0, end).toString("utf8"));
    // A torn line from a crash: the index rebuilds on it, and so does the view.
    if (ops === undefined) return false;
    for (const op of ops) this.follow(pos.known, op);
    pos.journalIno = file.ino;
    pos.offset += end;
    return true;
  }

  /** Applies one journal line to `known`, delivering it when it changes something. */
  private follow(known: Map<string, SessionSummary>, op: Op): void {
    if (op.op === "put") {
      const before = known.get(op.s.id);
      // Two processes repairing the same file both log it; the second says nothing new.
      if (before !== undefined && before.revision === op.s.revision) return;
      known.set(op.s.id, op.s);
      this.emitSteps(before, op.s, op.r ?? inferReason(before, op.s), op.w);
      const early = this.early.get(op.s.id);
      this.early.delete(op.s.id);
      for (const r of early ?? []) this.record(r, false);
      return;
    }
    const before = known.get(op.id);
    if (before === undefined) return;
    known.delete(op.id);
    this.emit({ id: op.id, key: op.k ?? before.key, revision: 0, reason: "deleted" }, op.w);
  }

  /** Delivers what differs between `known` and `view`, using the journal's reasons where its last line for an id is the change seen. */
  private diff(known: Map<string, SessionSummary>, view: IndexView): void {
    const last = new Map<string, Op>();
    for (const op of view.ops) last.set(op.op === "put" ? op.s.id : op.id, op);
    for (const [id, after] of view.map) {
      const before = known.get(id);
      if (before !== undefined && before.revision === after.revision) continue;
      const op = last.get(id);
      const line = op?.op === "put" && op.s.revision === after.revision ? op : undefined;
      this.emitSteps(before, after, line?.r ?? inferReason(before, after), line?.w);
    }
    for (const [id, before] of known) {
      if (view.map.has(id)) continue;
      const op = last.get(id);
      this.emit({ id, key: before.key, revision: 0, reason: "deleted" }, op?.op === "del" ? op.w : undefined);
    }
  }

  /** Hands a change to every listener unless this instance made it. */
  /**
   * Delivers a session's move from `before` to `after`. Revisions between
   * them that no journal line told of were appends whose log records the
   * watcher never read (their writer checkpointed and removed the segment
   * between two polls): each is delivered as the append it was, so a
   * listener sees every revision, in order.
   */
  private emitSteps(before: SessionSummary | undefined, after: SessionSummary, reason: StoreChange["reason"], writer: string | undefined): void {
    const from = before !== undefined && reason === "appended" ? before.revision + 1 : after.revision;
    for (let revision = from; revision <= after.revision; revision++) this.emit({ id: after.id, key: after.key, revision, reason }, writer);
  }

  private emit(change: StoreChange, writer: string | undefined): void {
    const mine = this.own.get(change.id);
    const ours = writer === this.source.writer || (writer === undefined && mine === change.revision);
    // Once the watcher has passed our latest noted revision (or the session is gone), the note has served.
    if (mine !== undefined && (mine === change.revision || change.revision === 0 || (!ours && mine < change.revision))) this.own.delete(change.id);
    if (ours) return;
    for (const l of [...this.listeners]) {
      try {
        l.fn({ ...change });
      } catch {
        // A listener's failure is its own; the other listeners still hear of the change.
      }
    }
  }
}

function positionOf(view: IndexView): Position {
  return { snapshot: view.snapshot, journalIno: view.journal?.ino, offset: view.journal?.size ?? 0, known: view.map };
}

/** The identity of the file at `path`, read synchronously (not followed if a symlink); undefined when absent or unreadable. */
function keyOfSync(path: string): FileKey | undefined {
  try {
    const st = lstatSync(path, { throwIfNoEntry: false });
    return st === undefined ? undefined : { ino: st.ino, size: st.size, mtimeMs: st.mtimeMs };
  } catch {
    return undefined;
  }
}
