import { crc32 } from "node:zlib";
import { usageTotals, type Message, type Session, type SessionStatus, type SessionSummary } from "../../session/types.js";
import type { HeaderChange } from "../store.js";
import { PLAIN_CODEC, type ContentCodec } from "../_crypto.js";

// A log record is one frame: u32 payload length, u32 CRC-32 of the payload
// (both little-endian), then the payload, JSON in UTF-8. The length lets a
// reader skip to the next frame without parsing; the checksum tells a torn
// or damaged frame from a whole one, so recovery stops exactly where the
// last complete write ended.

/** Bytes of a frame header (length + checksum). */
export const FRAME_HEADER = 8;
/** A frame longer than this is damage, not a record (messages are limited far below it). */
export const MAX_FRAME = 256 * 2 ** 20;

/** The header fields an append may change, as the contract allows (HeaderChange). */
export type AppendHeader = HeaderChange;

/** One durable append: the messages added and the header after them, at revision `rev` built on `base`. */
export interface LogRecord {
  /** Session id. */
  id: string;
  /** The revision the append was based on; the record applies only to a document at exactly this revision. */
  base: number;
  /** The revision the append produced (base + 1). */
  rev: number;
  /** Id of the base document's last message (null when it had none): a second check that the record belongs on it. */
  after: string | null;
  /** Status before the append, so index counts can be corrected without reading the old summary. */
  ps: SessionStatus;
  h: AppendHeader;
  m: Message[];
  /** The session's summary after the append (sizeBytes is the document's, approximate until checkpointed). */
  s: SessionSummary;
  /** Set on a fold's record: the messages it takes out of the history (for the pruned-history log) and the header after it. */
  f?: FoldPart;
}

/** What a fold's record holds beyond an append's: every header field after the fold, and the folded messages. */
export interface FoldPart {
  /** The document after the fold without its messages and revision (summary, prunedCount, context, times…). */
  h: Omit<Session, "messages" | "revision">;
  /** The messages taken out of the history, in history order; they go to the pruned-history log. */
  p: Message[];
}

/**
 * The record of an append at `rev` of the session whose summary and last
 * message id `base` gives: `header` the header change, `added` the
 * messages, `previous` the status and size stored before. Built from the
 * delta alone: the summary's counts are running totals.
 */
export function recordOf(base: { summary: SessionSummary; last: string | null }, rev: number, header: AppendHeader, added: Message[], previous: { status: SessionStatus; size: number }): LogRecord {
  const { status, updatedAt, lastActivityAt, expiredAt, archivedAt, participants, context } = header;
  const h: AppendHeader = { status, updatedAt, lastActivityAt, expiredAt, archivedAt, participants, context };
  const { usage: _usage, ...rest } = base.summary;
  const summary: SessionSummary = {
    ...rest,
    status,
    updatedAt,
    lastActivityAt,
    expiredAt,
    archivedAt,
    revision: rev,
    messageCount: base.summary.messageCount + added.length,
    // The token total is the header's running one: summing the history here would make an append cost its length.
    tokens: context.tokensInUse,
    sizeBytes: previous.size + JSON.stringify(added).length,
    ...(context.usage !== undefined ? { usage: usageTotals(context.usage) } : {}),
  };
  return { id: base.summary.id, base: rev - 1, rev, after: base.last, ps: previous.status, h, m: added, s: summary };
}

/** Encodes a record as one frame, its messages in their stored form (sealed when the codec encrypts). */
export function encodeRecord(record: LogRecord, codec: ContentCodec = PLAIN_CODEC): Buffer {
  const json = JSON.stringify(codec.encrypts ? sealRecord(record, codec) : record);
  // Encoded straight into the frame: one buffer, no copy.
  const length = Buffer.byteLength(json, "utf8");
  const frame = Buffer.allocUnsafe(FRAME_HEADER + length);
  frame.write(json, FRAME_HEADER, "utf8");
  frame.writeUInt32LE(length, 0);
  frame.writeUInt32LE(crc32(frame.subarray(FRAME_HEADER)), 4);
  return frame;
}

/** A record as stored by an encrypting codec: messages, the folded messages and the fold's header content sealed. */
function sealRecord(record: LogRecord, codec: ContentCodec): object {
  const m = record.m.map((x) => codec.sealMessage(x));
  if (record.f === undefined) return { ...record, m };
  return { ...record, m, f: { h: codec.sealSession({ ...record.f.h, revision: record.rev, messages: [] }), p: record.f.p.map((x) => codec.sealMessage(x)) } };
}

/** What decoding a run of frames found. */
export interface Decoded {
  records: { record: LogRecord; offset: number; bytes: number }[];
  /** Bytes consumed: the end of the last whole, valid frame. */
  consumed: number;
  /**
   * Why decoding stopped: "end" of the data, "unwritten" (zeros the writer
   * wrote ahead of its records, so nothing more yet), "partial" (the tail
   * is shorter than its frame says) or "damaged".
   */
  stop: "end" | "unwritten" | "partial" | "damaged";
}

/**
 * Decodes frames from `data` (which starts at file offset `base`), stopping
 * at the first frame that is incomplete or fails its checksum or shape: a
 * writer's records are written in order, so nothing after a bad frame can
 * be trusted to follow the ones before it.
 */
export function decodeFrames(data: Buffer, base: number, codec: ContentCodec = PLAIN_CODEC): Decoded {
  const records: Decoded["records"] = [];
  let at = 0;
  while (at < data.length) {
    if (data.length - at < FRAME_HEADER) return { records, consumed: at, stop: "partial" };
    const length = data.readUInt32LE(at);
    // No frame is empty, so a zero header is the zeros written ahead; bytes after it are a torn write.
    if (length === 0 && data.readUInt32LE(at + 4) === 0) return { records, consumed: at, stop: allZero(data, at + FRAME_HEADER) ? "unwritten" : "damaged" };
    if (length === 0 || length > MAX_FRAME) return { records, consumed: at, stop: "damaged" };
    if (data.length - at - FRAME_HEADER < length) return { records, consumed: at, stop: "partial" };
    const payload = data.subarray(at + FRAME_HEADER, at + FRAME_HEADER + length);
    if (crc32(payload) !== data.readUInt32LE(at + 4)) return { records, consumed: at, stop: "damaged" };
    const record = parseRecord(payload, codec);
    if (record === undefined) return { records, consumed: at, stop: "damaged" };
    records.push({ record, offset: base + at, bytes: FRAME_HEADER + length });
    at += FRAME_HEADER + length;
  }
  return { records, consumed: at, stop: "end" };
}

const ZERO_PAGE = Buffer.alloc(4096);

/** True when every byte of `data` from `from` on is zero. */
function allZero(data: Buffer, from: number): boolean {
  for (let at = from; at < data.length; at += ZERO_PAGE.length) {
    const end = Math.min(data.length, at + ZERO_PAGE.length);
    if (data.compare(ZERO_PAGE, 0, end - at, at, end) !== 0) return false;
  }
  return true;
}

const isRev = (n: unknown): n is number => typeof n === "number" && Number.isSafeInteger(n) && n >= 0;

// A checksum-valid payload was written by a store, so only the fields that
// steer replay are checked here; messages were validated before they were
// logged and are validated again with the document when it is read. Sealed
// messages are opened here: a key that is not held throws (ENCRYPTION_KEY)
// rather than making the frame look damaged, which would end recovery there.
function parseRecord(payload: Buffer, codec: ContentCodec): LogRecord | undefined {
  let v: unknown;
  try {
    v = JSON.parse(payload.toString("utf8"));
  } catch {
    return undefined;
  }
  if (typeof v !== "object" || v === null) return undefined;
  const o = v as Record<string, unknown>;
  if (typeof o.id !== "string" || !isRev(o.base) || !isRev(o.rev) || o.rev !== o.base + 1) return undefined;
  if (!Array.isArray(o.m) || typeof o.h !== "object" || o.h === null || typeof o.s !== "object" || o.s === null) return undefined;
  if (o.after !== null && typeof o.after !== "string") return undefined;
  const where = `sessions/log: a record of session ${o.id as string}`;
  o.m = o.m.map((m: unknown) => codec.openMessage(m, where));
  if (o.f !== undefined) {
    const f = o.f as Record<string, unknown> | null;
    if (typeof f !== "object" || f === null || !Array.isArray(f.p) || typeof f.h !== "object" || f.h === null) return undefined;
    const h = codec.openSession(f.h, where) as Record<string, unknown>;
    delete h.messages;
    delete h.revision;
    o.f = { h, p: f.p.map((m: unknown) => codec.openMessage(m, where)) };
  }
  return v as LogRecord;
}

/** The document a record produces from `doc` (which must be at the record's base revision); messages already present are not added again. `ids`, when given, holds the ids of `doc`'s messages and is kept up to date (for a run of records). */
export function applyRecord(doc: Session, record: LogRecord, ids?: Set<string>): Session {
  if (record.f !== undefined) {
    const folded = new Set(record.f.p.map((m) => m.id));
    return { ...doc, ...record.f.h, messages: doc.messages.filter((m) => !folded.has(m.id)), revision: record.rev };
  }
  const have = ids ?? new Set(doc.messages.map((m) => m.id));
  const added = record.m.filter((m) => !have.has(m.id));
  if (ids !== undefined) for (const m of added) ids.add(m.id);
  const h = record.h;
  return {
    ...doc,
    status: h.status,
    updatedAt: h.updatedAt,
    lastActivityAt: h.lastActivityAt,
    expiredAt: h.expiredAt,
    archivedAt: h.archivedAt,
    participants: h.participants as string[],
    context: h.context,
    messages: added.length === 0 ? doc.messages : [...doc.messages, ...added],
    revision: record.rev,
  };
}

/** True when `record` continues `doc`: same base revision and the same last message. */
export function continues(doc: Session, record: LogRecord): boolean {
  if (record.base !== doc.revision || (doc.messages.at(-1)?.id ?? null) !== record.after) return false;
  if (record.f === undefined) return true;
  // A fold applies only to a history that still holds every message it folds.
  const have = new Set(doc.messages.map((m) => m.id));
  return record.f.p.every((m) => have.has(m.id));
}

/**
 * The record of a fold at `rev`: `header` the document after it without its
 * messages, `folded` the messages it takes out, `count` the messages left.
 * The last message stays (a fold never takes the newest turn), so `after`
 * is the tail's.
 */
export function foldRecordOf(
  base: { summary: SessionSummary; last: string | null },
  rev: number,
  header: Omit<Session, "messages">,
  folded: Message[],
  count: number,
  previous: { status: SessionStatus; size: number },
): LogRecord {
  const record = recordOf(base, rev, header, [], previous);
  const { revision: _revision, ...h } = header;
  return { ...record, s: { ...record.s, messageCount: count, sizeBytes: previous.size }, f: { h, p: folded } };
}
