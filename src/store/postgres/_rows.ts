import { sessionTokens } from "../../session/derived.js";
import { usageTotals, type Message, type Origin, type Session, type SessionStatus, type SessionSummary, type SessionUsage } from "../../session/types.js";
import { PLAIN_CODEC, type ContentCodec } from "../_crypto.js";

/** A session's columns, ready as query parameters (see the INSERT and UPDATE in _sql.ts). */
export interface SessionColumns {
  id: string;
  key: string;
  kind: string;
  channel: string;
  status: string;
  createdAt: string;
  updatedAt: string;
  lastActivityAt: string;
  lastActivityMs: number;
  expiredAt: string | null;
  archivedAt: string | null;
  revision: number;
  messageCount: number;
  tokens: number;
  /** The document without its messages, with "summary": null in the summary's place. */
  header: string;
  /** Bytes of the header as the document holds it: with the summary when it is written too, without it otherwise. */
  headerBytes: number;
  /** The summary's JSON (null: none), and what it adds to the header's size over "null"; undefined when not written. */
  summary?: string | null;
  summaryBytes?: number;
  /** True when the status makes the session a candidate for its key's live claim. */
  live: boolean;
}

/** Messages as parallel arrays, for one `unnest` INSERT of any number of rows. */
export interface MessageRows {
  docs: string[];
  ids: string[];
  clientIds: (string | null)[];
  bytes: number;
}

/**
 * The column values of `doc` (already validated), whose messages are
 * `messages` in full; `withSummary: false` leaves the summary columns out
 * (an append does not change the summary).
 */
export function sessionColumns(doc: Session, messages: readonly Message[] = doc.messages, withSummary = true, codec: ContentCodec = PLAIN_CODEC): SessionColumns {
  // The places of the messages and the summary in the document are kept (an
  // empty array, null), so the document reassembles in the order it was written.
  const header = JSON.stringify({ ...codec.sealHead(doc), messages: [], summary: null });
  const summary = withSummary ? (doc.summary === null ? null : JSON.stringify(codec.sealSummary(doc.summary, doc.id))) : undefined;
  const summaryBytes = summary === undefined || summary === null ? 0 : Buffer.byteLength(summary, "utf8") - "null".length;
  return {
    ...(summary !== undefined ? { summary, summaryBytes } : {}),
    id: doc.id,
    key: doc.key,
    kind: doc.kind,
    channel: doc.channel,
    status: doc.status,
    createdAt: doc.createdAt,
    updatedAt: doc.updatedAt,
    lastActivityAt: doc.lastActivityAt,
    lastActivityMs: Date.parse(doc.lastActivityAt),
    expiredAt: doc.expiredAt,
    archivedAt: doc.archivedAt,
    revision: doc.revision,
    messageCount: messages.length,
    tokens: sessionTokens({ systemPrompts: doc.systemPrompts, summary: doc.summary, messages: messages as Message[] }),
    header,
    headerBytes: Buffer.byteLength(header, "utf8") + summaryBytes,
    live: doc.status === "created" || doc.status === "active",
  };
}

/** Rows of `messages`, in order, in their stored form. */
export function messageRows(messages: readonly Message[], codec: ContentCodec = PLAIN_CODEC): MessageRows {
  const rows: MessageRows = { docs: [], ids: [], clientIds: [], bytes: 0 };
  for (const m of messages) {
    const text = JSON.stringify(codec.sealMessage(m));
    rows.docs.push(text);
    rows.ids.push(m.id);
    rows.clientIds.push(m.clientId ?? null);
    rows.bytes += Buffer.byteLength(text, "utf8");
  }
  return rows;
}

/** The document's serialized size from its parts: header (with "[]"), messages and the commas between them. */
export function documentBytes(headerBytes: number, messageBytes: number, messageCount: number): number {
  return headerBytes + messageBytes + Math.max(messageCount - 1, 0);
}

/** A row of the summary SELECT in _sql.ts. */
export interface SummaryRow {
  id: string;
  key: string;
  kind: SessionSummary["kind"];
  channel: string;
  status: SessionStatus;
  message_count: number;
  tokens: number;
  created_at: string;
  updated_at: string;
  last_activity_at: string;
  last_activity_ms: string;
  expired_at: string | null;
  archived_at: string | null;
  revision: number;
  size_bytes: string;
  /** The header's context.usage (null before the first model call); absent from rows read by older statements. */
  usage?: SessionUsage | null;
  /** The header's label and origin (null when absent); absent from rows read by older statements. */
  label?: string | null;
  origin?: Origin | null;
}

/** The summary of a row, its status as seen at `cutoffMs` (null: as stored). */
export function toSummaryRow(r: SummaryRow, cutoffMs: number | null): SessionSummary {
  const expired = (r.status === "active" || r.status === "created") && cutoffMs !== null && Number(r.last_activity_ms) < cutoffMs;
  return {
    id: r.id,
    key: r.key,
    kind: r.kind,
    channel: r.channel,
    status: expired ? "expired" : r.status,
    messageCount: r.message_count,
    tokens: r.tokens,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    lastActivityAt: r.last_activity_at,
    expiredAt: r.expired_at,
    archivedAt: r.archived_at,
    revision: r.revision,
    sizeBytes: Number(r.size_bytes),
    ...(r.usage !== undefined && r.usage !== null ? { usage: usageTotals(r.usage) } : {}),
    ...(r.label !== undefined && r.label !== null ? { label: r.label } : {}),
    ...(r.origin !== undefined && r.origin !== null ? { origin: r.origin } : {}),
  };
}

/** The payload of one change notification; `instance` lets a listener skip its own store's changes. */
export function changePayload(instance: string, id: string, key: string, revision: number, reason: string): string {
  return JSON.stringify({ id, key, revision, reason, instance });
}
