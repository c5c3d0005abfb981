import { closeSync, fstatSync, openSync, readdirSync, readSync } from "node:fs";
import { join } from "node:path";
import { storageError } from "../../errors.js";
import type { Message, Session } from "../../session/types.js";
import type { StoreWarning } from "../store.js";
import { errnoOf } from "./_fs.js";
import { PLAIN_CODEC, type ContentCodec } from "../_crypto.js";
import { applyRecord, continues, decodeFrames, FRAME_HEADER, type Decoded, type LogRecord } from "./_log-format.js";
import { parseSegmentName, type Written } from "./_log.js";
import { pidAlive } from "./_pid.js";

/** A record not yet known to be in its document, with where it lies. */
export interface Pending {
  record: LogRecord;
  segment: string;
  bytes: number;
}

interface Segment {
  ino: number;
  /** Bytes read and accounted for (always at a frame boundary). */
  offset: number;
  writer: string;
  pid: number;
  seq: number;
  /** Highest revision of each session recorded in this segment, for deciding when it can go. */
  ids: Map<string, number>;
  /** Set once a damaged tail has been reported, so it is reported once. */
  reported: boolean;
}

/** Called for each record the reader learns of (own ones included), in file order. */
export type RecordListener = (record: LogRecord, own: boolean) => void;

/**
 * Follows every log segment in the directory, reading only the bytes added
 * since the last look, and keeps the records each session has beyond its
 * document. Because the bytes read are remembered per segment, checking a
 * revision under a session's lock costs a directory listing and a read of
 * whatever other processes appended meanwhile.
 */
export class LogReader {
  private readonly segments = new Map<string, Segment>();
  private readonly pending = new Map<string, Pending[]>();
  private readonly listeners = new Set<RecordListener>();

  constructor(
    private readonly dir: string,
    private readonly ownWriter: string,
    private readonly warn: StoreWarning,
    private readonly codec: ContentCodec = PLAIN_CODEC,
  ) {}

  /** Registers a listener for records as they are learnt; returns its removal. */
  listen(fn: RecordListener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Reads whatever was appended to any segment since the last call; segments that vanished are forgotten. */
  catchUp(): void {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch (err) {
      if (errnoOf(err) === "ENOENT") names = [];
      else throw storageError("list", this.dir, err);
    }
    const present = new Set<string>();
    const newest = new Map<string, number>();
    for (const name of names) {
      const parsed = parseSegmentName(name);
      if (parsed === undefined) continue;
      present.add(name);
      newest.set(parsed.writer, Math.max(newest.get(parsed.writer) ?? 0, parsed.seq));
    }
    for (const name of this.segments.keys()) if (!present.has(name)) this.forgetSegment(name);
    // Oldest first, so one writer's records are learnt in the order it wrote them. This
    // instance's own segments are learnt from its writer (addOwn) once durable: reading
    // them back would parse every record twice, and could see one not yet flushed.
    for (const name of [...present].sort(bySegmentOrder)) if (!this.ownSegment(name)) this.readSegment(name, newest);
  }

  /** Records a record this instance just made durable (the reader may already have read it from the file). */
  addOwn(record: LogRecord, at: Written): void {
    const seg = this.segmentState(at.segment);
    if (seg === undefined || at.offset < seg.offset) return;
    seg.offset = at.offset + at.bytes;
    this.learn(record, at.segment, at.bytes, seg, true);
  }

  /** The revision `id` stands at counting its log records: the chain of records from the document's revision. Null when there is no document. */
  tip(id: string, docRevision: number | null): number | null {
    if (docRevision === null) return null;
    let tip = docRevision;
    for (const p of this.pending.get(id) ?? []) if (p.record.base === tip) tip = p.record.rev;
    return tip;
  }

  /** The records of `id` with a revision above `revision`, in revision order. */
  after(id: string, revision: number): Pending[] {
    return (this.pending.get(id) ?? []).filter((p) => p.record.rev > revision);
  }

  /**
   * The document with its log records applied. A record continues the
   * document only when its base revision is the document's and its base's
   * last message is the document's last (see docs/storage.md);
   * one based on the same revision of a document edited since keeps only
   * its revision, so every process agrees on the revision and nothing is
   * applied on top of an edit blindly.
   */
  replay(doc: Session, onDiscard?: (p: Pending) => void): { session: Session; applied: number; bytes: number; folded: Message[] } {
    let cur = doc;
    let applied = 0;
    let bytes = 0;
    const folded: Message[] = [];
    // The ids of cur's messages, made once for a run of appends rather than once per record (a fold starts a new set).
    let ids: Set<string> | undefined;
    for (const p of this.pending.get(doc.id) ?? []) {
      if (p.record.rev <= cur.revision || p.record.base !== cur.revision) continue;
      if (continues(cur, p.record)) {
        if (p.record.f === undefined) cur = applyRecord(cur, p.record, (ids ??= new Set(cur.messages.map((m) => m.id))));
        else {
          cur = applyRecord(cur, p.record);
          ids = undefined;
          folded.push(...p.record.f.p);
        }
      } else {
        cur = { ...cur, revision: p.record.rev };
        onDiscard?.(p);
      }
      applied++;
      bytes += p.bytes;
    }
    return { session: cur, applied, bytes, folded };
  }

  /** True when a record of `id` above `revision` is a fold (its checkpoint needs the messages, not just the header). */
  foldsAfter(id: string, revision: number): boolean {
    return (this.pending.get(id) ?? []).some((p) => p.record.rev > revision && p.record.f !== undefined);
  }

  /**
   * The messages the fold records in the chain from `revision` take out of
   * the history: in no pruned-history log yet, they are part of it.
   */
  foldedAfter(id: string, revision: number): Message[] {
    const out: Message[] = [];
    let tip = revision;
    for (const p of this.pending.get(id) ?? []) {
      if (p.record.base !== tip) continue;
      tip = p.record.rev;
      if (p.record.f !== undefined) out.push(...p.record.f.p);
    }
    return out;
  }

  /**
   * replay() for a header read without its messages (`last` is the id of its
   * last message): the header after the records and the messages they add,
   * for a checkpoint that appends them to the message file.
   */
  replayHeader(head: Session, last: string | null, onDiscard?: (p: Pending) => void): { session: Session; added: Message[]; applied: number } {
    let cur: Session = { ...head, messages: [] };
    let tail = last;
    const seen = new Set<string>(last === null ? [] : [last]);
    const added: Message[] = [];
    let applied = 0;
    for (const p of this.pending.get(head.id) ?? []) {
      if (p.record.rev <= cur.revision || p.record.base !== cur.revision) continue;
      if (p.record.after === tail) {
        const fresh = p.record.m.filter((m) => !seen.has(m.id));
        for (const m of fresh) {
          seen.add(m.id);
          added.push(m);
        }
        cur = applyRecord(cur, { ...p.record, m: [] });
        tail = fresh.at(-1)?.id ?? tail;
      } else {
        cur = { ...cur, revision: p.record.rev };
        onDiscard?.(p);
      }
      applied++;
    }
    return { session: cur, added, applied };
  }

  /** Forgets the records of `id` at or below `revision` (its document holds them). */
  covered(id: string, revision: number): void {
    const list = this.pending.get(id);
    if (list === undefined) return;
    const left = list.filter((p) => p.record.rev > revision);
    if (left.length === 0) this.pending.delete(id);
    else this.pending.set(id, left);
  }

  /** Forgets every record of `id` (the session was deleted or replaced). */
  drop(id: string): void {
    this.pending.delete(id);
  }

  /** Sessions that have records beyond what this reader last saw of their documents. */
  sessionsWithRecords(): string[] {
    return [...this.pending.keys()];
  }

  /** The newest record of every session that has any, for listing. */
  latest(): Map<string, Pending> {
    const out = new Map<string, Pending>();
    for (const [id, list] of this.pending) {
      const last = list.at(-1);
      if (last !== undefined) out.set(id, last);
    }
    return out;
  }

  /** Every segment known, with what a collector needs to decide whether it can go. */
  segmentList(): { name: string; writer: string; pid: number; seq: number; ids: Map<string, number> }[] {
    return [...this.segments].map(([name, s]) => ({ name, writer: s.writer, pid: s.pid, seq: s.seq, ids: s.ids }));
  }

  /** Forgets a segment that was removed, with its records (their documents hold them). */
  forgetSegment(name: string): void {
    const seg = this.segments.get(name);
    this.segments.delete(name);
    if (seg === undefined) return;
    for (const id of seg.ids.keys()) {
      const list = this.pending.get(id);
      if (list === undefined) continue;
      const left = list.filter((p) => p.segment !== name);
      if (left.length === 0) this.pending.delete(id);
      else this.pending.set(id, left);
    }
  }

  private ownSegment(name: string): boolean {
    return name.startsWith(`${this.ownWriter}-`);
  }

  private segmentState(name: string): Segment | undefined {
    let seg = this.segments.get(name);
    if (seg === undefined) {
      const parsed = parseSegmentName(name);
      if (parsed === undefined) return undefined;
      seg = { ino: -1, offset: 0, writer: parsed.writer, pid: parsed.pid, seq: parsed.seq, ids: new Map(), reported: false };
      this.segments.set(name, seg);
    }
    return seg;
  }

  private readSegment(name: string, newest: Map<string, number>): void {
    const seg = this.segmentState(name);
    if (seg === undefined) return;
    const path = join(this.dir, name);
    let fd: number;
    try {
      fd = openSync(path, "r");
    } catch (err) {
      if (errnoOf(err) === "ENOENT") return this.forgetSegment(name);
      throw storageError("read", path, err);
    }
    const own = seg.writer === this.ownWriter;
    let last: { data: Buffer; decoded: Decoded } | undefined;
    try {
      const st = fstatSync(fd);
      if (seg.ino !== -1 && seg.ino !== st.ino) {
        // Replaced under the same name: start over on the new file.
        this.forgetSegment(name);
        return this.readSegment(name, newest);
      }
      seg.ino = st.ino;
      // A live writer's segment ends in zeros written ahead of its records:
      // it is read a window at a time, up to the first zero frame header.
      let window = READ_WINDOW;
      while (seg.offset < st.size) {
        const want = Math.min(st.size - seg.offset, window);
        const data = readAt(fd, seg.offset, want);
        const decoded = decodeFrames(data, seg.offset, this.codec);
        for (const r of decoded.records) this.learn(r.record, name, r.bytes, seg, own);
        seg.offset += decoded.consumed;
        last = { data, decoded };
        // A short read: the file shrank since fstat (a failed flush cut it); what was read is all there is.
        if (data.length < want) break;
        if (decoded.stop === "end") {
          // Much to catch up on: larger reads.
          window = Math.min(MAX_READ_WINDOW, Math.max(window, data.length) * 2);
          continue;
        }
        const rest = data.subarray(decoded.consumed);
        // The window, not the file, ended inside a frame: read at least that frame next.
        if (decoded.stop === "partial" && seg.offset + rest.length < st.size) {
          window = rest.length >= FRAME_HEADER ? Math.max(READ_WINDOW, FRAME_HEADER + rest.readUInt32LE(0)) : READ_WINDOW;
          continue;
        }
        break;
      }
    } finally {
      closeSync(fd);
    }
    if (last === undefined || last.decoded.stop === "end" || last.decoded.stop === "unwritten" || seg.reported) return;
    // A tail still being written looks the same as a torn one; it is only
    // torn once its writer can no longer finish it.
    const finished = (newest.get(seg.writer) ?? seg.seq) > seg.seq || !pidAlive(seg.pid) || own;
    if (!finished) return;
    seg.reported = true;
    const torn = nonZeroEnd(last.data) - last.decoded.consumed;
    this.warn(`sessions/log/${name}: ${torn} bytes after offset ${seg.offset} are a torn or damaged record (interrupted write); discarded`);
  }

  private learn(record: LogRecord, segment: string, bytes: number, seg: Segment, own: boolean): void {
    seg.ids.set(record.id, Math.max(seg.ids.get(record.id) ?? 0, record.rev));
    const list = this.pending.get(record.id);
    const entry: Pending = { record, segment, bytes };
    if (list === undefined) this.pending.set(record.id, [entry]);
    else {
      // Kept in revision order; records of one session from different processes interleave by revision.
      let i = list.length;
      while (i > 0 && (list[i - 1] as Pending).record.rev > record.rev) i--;
      list.splice(i, 0, entry);
    }
    for (const l of this.listeners) l(record, own);
  }
}

/** Bytes first read from a segment at each look (a few records: a reader usually has only the latest to catch up on); a frame longer than this is read whole. */
const READ_WINDOW = 16 * 2 ** 10;
/** Largest read while a window keeps ending at a frame boundary. */
const MAX_READ_WINDOW = 2 ** 20;

/** Reads up to `length` bytes at `offset` (fewer at the end of the file). */
function readAt(fd: number, offset: number, length: number): Buffer {
  const data = Buffer.allocUnsafe(length);
  let done = 0;
  while (done < length) {
    const n = readSync(fd, data, done, length - done, offset + done);
    if (n === 0) break;
    done += n;
  }
  return data.subarray(0, done);
}

/** The length of `data` without its trailing zeros. */
function nonZeroEnd(data: Buffer): number {
  let end = data.length;
  while (end > 0 && data[end - 1] === 0) end--;
  return end;
}

/** Writer, then sequence: a writer's segments in the order it wrote them. */
function bySegmentOrder(a: string, b: string): number {
  const x = parseSegmentName(a);
  const y = parseSegmentName(b);
  if (x === undefined || y === undefined) return a < b ? -1 : 1;
  if (x.writer !== y.writer) return x.writer < y.writer ? -1 : 1;
  return x.seq - y.seq;
}
