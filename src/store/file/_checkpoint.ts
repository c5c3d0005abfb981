import { unlink } from "node:fs/promises";
import { join } from "node:path";
import { sessionTokens, toSummary } from "../../session/lifecycle.js";
import type { Message, Session, SessionStatus, SessionSummary } from "../../session/types.js";
import { oneLine } from "../_document.js";
import type { StoreWarning } from "../store.js";
import type { DocumentFiles } from "./_documents.js";
import { ensureDir, fsyncDir, ignoreMissing } from "./_fs.js";
import type { LogRecord } from "./_log-format.js";
import { LogReader, type Pending } from "./_log-reader.js";
import { LogWriter } from "./_log.js";
import { pidAlive } from "./_pid.js";
import { appendPrunedLog } from "./_pruned.js";
import { CheckpointRounds } from "./_rounds.js";
import type { Layout } from "./_paths.js";

/** Default delay between a session's first unwritten append and the checkpoint that writes its document. */
export const DEFAULT_CHECKPOINT_MS = 1_000;

/** What the log needs from its store. */
export interface LogHost {
  layout: Layout;
  docs: DocumentFiles;
  warn: StoreWarning;
  /** Runs `fn` holding the session's lock across processes. */
  withLock<T>(id: string, fn: () => Promise<T>): Promise<T>;
  /** The generation of the session's lock while held (see FileLocks.generation), else undefined. */
  lockGeneration(id: string): number | undefined;
  /** The generation of the session's lock while held or leased by this instance (see FileLocks.keptGeneration), else undefined. */
  keptGeneration(id: string): number | undefined;
  /** Records a checkpointed document's summary in the index, with the status it had before. */
  indexPut(summary: SessionSummary, ps: SessionStatus): Promise<void>;
}

/** A session's stored state counting its log records. */
export interface Stored {
  revision: number;
  status: SessionStatus;
  /** Bytes of the document plus its records (approximate until checkpointed). */
  size: number;
}

/**
 * The store-wide append log and its checkpoints: appends become durable as
 * records in this instance's segment; a checkpoint folds a session's records
 * into its JSON document (under the session's lock) at most `delayMs` after
 * the first one, and a segment whose every record is in its documents is
 * removed.
 */
export class SessionLog {
  /** This instance's segments and group commit. */
  readonly writer: LogWriter;
  /** Every segment's records not yet in their documents. */
  readonly reader: LogReader;
  private readonly due = new CheckpointRounds();
  /**
   * What stored() last found or an append of ours made of a session, with
   * the lock generation it holds under: while this instance keeps the lock
   * file, no other process can have written the session, so the next
   * operation needs no read of the document's head or the log directory.
   */
  private readonly known = new Map<string, { generation: number; stored: Stored }>();
  /** Looks in progress by session: a write meanwhile marks them stale, so what they found is not remembered. */
  private readonly looking = new Map<string, Set<{ stale: boolean }>>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();

  constructor(
    private readonly host: LogHost,
    private readonly delayMs: number,
  ) {
    this.writer = new LogWriter(host.layout.log, host.docs.codec);
    this.reader = new LogReader(host.layout.log, this.writer.writer, host.warn, host.docs.codec);
  }

  /** Creates the log directory and recovers: records of writers that are gone are written into their documents. */
  async init(): Promise<void> {
    await ensureDir(this.host.layout.log, true);
    this.reader.catchUp();
    await this.collect();
  }

  /** The session's revision counting its log records, with its status and size; null when it has no document. Call under the session's lock for a check that holds. */
  async stored(id: string): Promise<Stored | null> {
    const generation = this.host.lockGeneration(id);
    const known = this.known.get(id);
    // Without an operation holding the lock, what the last holder learnt is still true while this instance keeps the lock leased.
    if (known !== undefined && known.generation === (generation ?? this.host.keptGeneration(id))) return { ...known.stored };
    // A look without the lock neither trusts nor changes what a holder learnt.
    if (generation !== undefined) this.known.delete(id);
    // A look outside the lock may run while the holder writes (the lock's generation is the holder's):
    // what it found is remembered only when no write of the session began meanwhile.
    const look = { stale: false };
    const looks = this.looking.get(id) ?? new Set();
    looks.add(look);
    this.looking.set(id, looks);
    try {
      this.reader.catchUp();
      const head = await this.host.docs.head(id);
      if (head === null) return null;
      this.reader.covered(id, head.revision);
      const out: Stored = { ...head };
      for (const p of this.reader.after(id, head.revision)) {
        if (p.record.base !== out.revision) continue;
        out.revision = p.record.rev;
        out.status = p.record.h.status;
        out.size += p.bytes;
      }
      if (generation !== undefined && !look.stale) this.known.set(id, { generation, stored: { ...out } });
      return out;
    } finally {
      looks.delete(look);
      if (looks.size === 0) this.looking.delete(id);
    }
  }

  /** Drops what stored() remembers of a session: call whenever the session is written other than by append() (before and after the write). */
  forget(id: string): void {
    this.known.delete(id);
    for (const look of this.looking.get(id) ?? []) look.stale = true;
  }

  /** The messages fold records not yet checkpointed take out of the session's history (see LogReader.foldedAfter); `look` reads the log first. */
  async pendingFolded(id: string, look: boolean): Promise<Message[]> {
    if (look) this.reader.catchUp();
    if (!this.reader.foldsAfter(id, 0)) return [];
    const head = await this.host.docs.head(id);
    return head === null ? [] : this.reader.foldedAfter(id, head.revision);
  }

  /** The document with the log records it has not absorbed yet, and the bytes they add. */
  current(doc: Session): { session: Session; bytes: number } {
    this.reader.covered(doc.id, doc.revision);
    const { session, bytes } = this.reader.replay(doc);
    return { session, bytes };
  }

  /** Writes a record durably (shared flush) and schedules the session's checkpoint. */
  async append(record: LogRecord): Promise<void> {
    const id = record.id;
    const known = this.known.get(id);
    this.forget(id);
    const at = await this.writer.append(record);
    this.reader.addOwn(record, at);
    // A look that began during the write may have missed the record: it must not be remembered.
    for (const look of this.looking.get(id) ?? []) look.stale = true;
    const generation = this.host.lockGeneration(id);
    if (known !== undefined && known.stored.revision === record.base && generation === known.generation) {
      this.known.set(id, { generation, stored: { revision: record.rev, status: record.h.status, size: known.stored.size + at.bytes } });
    }
    this.schedule(id);
  }

  /** Brings one session's document up to date with its records, under its lock. */
  async checkpoint(id: string): Promise<void> {
    await this.host.withLock(id, async () => {
      this.forget(id);
      let written: Stored | undefined;
      try {
        written = await this.absorb(id);
      } finally {
        this.forget(id);
      }
      // What was just written is what the next operation under a kept lock would read back: the document with no records beyond it.
      const generation = this.host.lockGeneration(id);
      if (written !== undefined && generation !== undefined) this.known.set(id, { generation, stored: written });
    });
  }

  /** The checkpoint's work, under the lock; the session as stored when it wrote the document, else undefined. */
  private async absorb(id: string): Promise<Stored | undefined> {
    this.reader.catchUp();
    const discarded = (p: Pending): void =>
      this.host.warn(
        `sessions/log/${p.segment}: the record of revision ${p.record.rev} of session ${id} was not applied: sessions/${id}.json was changed since it was written (edited by hand?); the document's content was kept`,
      );
    // The split layout: the new messages are appended to the message file and the header replaced, whatever the history's length.
    const header = await this.host.docs.readHeader(id);
    // A fold record takes messages out of the history: that needs the whole document (below), once per checkpoint, not once per fold.
    if (header !== undefined && !this.reader.foldsAfter(id, header.session.revision)) {
      const { session, added, applied } = this.reader.replayHeader(header.session, header.file.last, discarded);
      let written: Stored | undefined;
      if (applied > 0) {
        const { bytes, file } = await this.host.docs.append(header, session, added);
        await this.host.indexPut({ ...toSummary(session, bytes), messageCount: file.count, tokens: sessionTokens(session) + file.tokens }, header.session.status);
        written = { revision: session.revision, status: session.status, size: bytes };
      }
      this.reader.covered(id, session.revision);
      return written;
    }
    // A document holding its messages inline (the earlier layout) is read whole, and written in the split layout.
    const r = await this.host.docs.read(id);
    if (r.state !== "ok") {
      this.reader.drop(id);
      return undefined;
    }
    const { session, applied, folded } = this.reader.replay(r.session, discarded);
    let written: Stored | undefined;
    if (applied > 0) {
      // Folded messages reach the pruned-history log, flushed, before the document that drops them (a crash in between logs them again: the first copy wins).
      await appendPrunedLog(this.host.layout.pruned(id), folded, this.host.docs.codec);
      const bytes = await this.host.docs.write(session);
      await this.host.indexPut(toSummary(session, bytes), r.session.status);
      written = { revision: session.revision, status: session.status, size: bytes };
    }
    this.reader.covered(id, session.revision);
    return written;
  }

  /** Checkpoints every session with records, then removes the segments they empty. */
  async checkpointAll(): Promise<void> {
    this.reader.catchUp();
    for (const id of this.reader.sessionsWithRecords()) await this.checkpointQuietly(id);
    await this.collect();
  }

  /** Stops the timer and checkpoints everything this instance knows of. */
  async close(): Promise<void> {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.due.clear();
    await this.running;
    await this.checkpointAll();
    this.writer.seal();
  }

  /**
   * Removes segments whose records are all in their documents (or whose
   * sessions are gone); records of writers that died are checkpointed first.
   * A live writer's active segment is never removed: it may still append.
   */
  async collect(): Promise<void> {
    this.reader.catchUp();
    const segments = this.reader.segmentList();
    // Checkpoints leave their headers' renames to this flush: once per collection, before the first segment they empty goes.
    let flushed = false;
    const newest = new Map<string, number>();
    for (const s of segments) newest.set(s.writer, Math.max(newest.get(s.writer) ?? 0, s.seq));
    for (const s of segments) {
      const own = s.writer === this.writer.writer;
      const dead = !own && !pidAlive(s.pid);
      if (own && s.name === this.writer.active) {
        const before = this.writer.activeBytes;
        if (this.writer.busy || !(await this.coveredAll(s.ids)) || this.writer.busy || this.writer.activeBytes !== before) continue;
        this.writer.seal();
      } else if (!own && !dead && s.seq === newest.get(s.writer)) {
        continue;
      } else if (!(await this.coveredAll(s.ids))) {
        if (!dead) continue;
        for (const id of s.ids.keys()) await this.checkpointQuietly(id);
        if (!(await this.coveredAll(s.ids))) continue;
      }
      try {
        if (!flushed) await fsyncDir(this.host.layout.sessions);
        flushed = true;
        await unlink(join(this.host.layout.log, s.name)).catch(ignoreMissing);
      } catch (err) {
        this.host.warn(`sessions/log/${s.name}: could not remove a checkpointed segment (${describe(err)}); it is harmless and removed later`);
        continue;
      }
      this.reader.forgetSegment(s.name);
    }
  }

  private schedule(id: string): void {
    this.due.add(id);
    this.arm();
  }

  /** Starts the next round's timer if none runs: every round checkpoints the sessions whose wait is over. */
  private arm(): void {
    if (this.timer !== undefined || !this.due.pending) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const ids = this.due.take();
      this.arm();
      this.running = this.running.then(async () => {
        for (const id of ids) await this.checkpointQuietly(id);
        await this.collect().catch((err: unknown) => this.host.warn(`sessions/log: could not remove checkpointed segments (${describe(err)}); retrying later`));
      });
    }, this.delayMs);
    this.timer.unref();
  }

  /** A failed checkpoint loses nothing (the records stay in the log and are read with the document), so it is reported, not thrown. */
  private async checkpointQuietly(id: string): Promise<void> {
    try {
      await this.checkpoint(id);
    } catch (err) {
      this.host.warn(`sessions/${id}.json: could not be brought up to date from the log (${describe(err)}); its records stay in the log`);
    }
  }

  /** True when every session's document holds at least the given revision, is gone, or can never reach it. */
  private async coveredAll(ids: Map<string, number>): Promise<boolean> {
    for (const [id, rev] of ids) {
      const head = await this.host.docs.head(id);
      if (head === null || head.revision >= rev) continue;
      // A record the chain from the document cannot reach will never be applied.
      if ((this.reader.tip(id, head.revision) ?? 0) < rev) continue;
      return false;
    }
    return true;
  }
}

function describe(err: unknown): string {
  return oneLine(err instanceof Error ? err.message : String(err), 160);
}
