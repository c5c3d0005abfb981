import { createHash } from "node:crypto";
import type { PoolClient } from "pg";
import type { Message, Session } from "../../session/types.js";
import { conflictError, inferReason, prepareAppend, prepareDocument, prepareMessages } from "../_document.js";
import type { Appended, ChangeReason, Commit, HeaderChange, PrunedChange } from "../store.js";
import type { ContentCodec } from "../_crypto.js";
import { errorCode } from "./_errors.js";
import { messageRows, sessionColumns, type MessageRows, type SessionColumns } from "./_rows.js";
import * as sql from "./_sql.js";

/** What the write paths need from their store. */
export interface WriteContext {
  /** How content is stored (sealed when the store is encrypted). */
  codec: ContentCodec;
  /** Resolves before this instance's first write once the store's key record agrees with the codec (see EncryptedStore). */
  beforeWrite(): Promise<void>;
  /** Runs `fn` in one transaction on one pooled connection. */
  tx<T>(fn: (c: PoolClient) => Promise<T>): Promise<T>;
  /** Runs one statement (its own transaction) on any pooled connection; a `name` makes it a prepared statement each connection parses once. */
  query<R extends object>(text: string, values: unknown[], name?: string): Promise<R[]>;
  /** Tells other instances about a change; called once it committed. */
  notify(id: string, key: string, revision: number, reason: ChangeReason): void;
  /**
   * The channel and payload to notify inside the write's own transaction,
   * when no other write of this store is under way (so nothing queues behind
   * the notify lock), once earlier notifications went out (so order holds);
   * undefined otherwise: the write calls `notify` after its commit.
   */
  inlineNotify(id: string, key: string, revision: number, reason: ChangeReason): Promise<[string, string] | undefined>;
  /** As inlineNotify, for a statement that builds its own payload: the channel and this instance's id. */
  inlineChannel(): Promise<[string, string] | undefined>;
}

const APPEND = sql.appendStatement(false);
const APPEND_NOTIFY = sql.appendStatement(true);

const LIVE_KEY_INDEX = "sessions_live_key";

async function storedRevision(ctx: WriteContext, id: string): Promise<number | null> {
  const [row] = await ctx.query<{ revision: number }>(sql.REVISION_OF, [id]);
  return row?.revision ?? null;
}

async function insertMessages(c: PoolClient, codec: ContentCodec, id: string, messages: readonly Message[], firstSeq: number): Promise<void> {
  if (messages.length === 0) return;
  const rows = messageRows(messages, codec);
  await c.query(sql.INSERT_MESSAGES, [id, firstSeq, rows.docs, rows.ids, rows.clientIds]);
}

async function writePruned(c: PoolClient, codec: ContentCodec, id: string, pruned: PrunedChange | undefined): Promise<void> {
  if (pruned === undefined) return;
  const list = "append" in pruned ? pruned.append : pruned.replace;
  if ("replace" in pruned) await c.query(sql.DELETE_PRUNED, [id]);
  if (list.length === 0) return;
  const rows = messageRows(list, codec);
  await c.query(sql.APPEND_PRUNED, [id, rows.docs, rows.ids]);
}

const digest = (text: string): string => createHash("md5").update(text, "utf8").digest("hex");

/**
 * Writes the header and brings the message rows to `rows`. A fold or a
 * message deletion keeps most stored messages as they are, so the stored
 * rows that open the new list unchanged (same id, same text, in order) are
 * kept, the others deleted, and only the rest inserted after them; the
 * whole list is rewritten only when nothing matches.
 */
async function syncMessages(c: PoolClient, cols: SessionColumns, rows: MessageRows, nextSeq: number, claim: sql.Claim): Promise<void> {
  const stored = (await c.query<{ seq: string; message_id: string; h: string }>(sql.MESSAGE_DIGESTS, [cols.id])).rows;
  const drop: string[] = [];
  let kept = 0;
  let j = 0;
  for (; kept < rows.ids.length; kept++) {
    const id = rows.ids[kept];
    const h = digest(rows.docs[kept] as string);
    let k = j;
    while (k < stored.length && !(stored[k]?.message_id === id && stored[k]?.h === h)) k++;
    if (k === stored.length) break;
    for (; j < k; j++) drop.push((stored[j] as { seq: string }).seq);
    j = k + 1;
  }
  for (; j < stored.length; j++) drop.push((stored[j] as { seq: string }).seq);
  const tail = { docs: rows.docs.slice(kept), ids: rows.ids.slice(kept), clientIds: rows.clientIds.slice(kept) };
  const firstSeq = kept === 0 ? 1 : nextSeq;
  const upd = sql.updateSession(cols, rows, firstSeq + tail.docs.length, claim);
  await c.query(upd.text, upd.values);
  if (kept === 0) await c.query(sql.DELETE_MESSAGES, [cols.id]);
  else if (drop.length > 0) await c.query(sql.DELETE_MESSAGE_SEQS, [cols.id, drop]);
  if (tail.docs.length > 0) await c.query(sql.INSERT_MESSAGES, [cols.id, firstSeq, tail.docs, tail.ids, tail.clientIds]);
}

/**
 * A whole-document commit: the row locked and its revision checked, header
 * and message rows written (see syncMessages) and the pruned change in one
 * transaction, then the notification. A live session takes its key's
 * claim when free (a new one, or one made live again).
 */
export async function commitDocument(ctx: WriteContext, change: Commit): Promise<Session> {
  const { session, expectedRevision } = change;
  const doc = await prepareDocument(session, expectedRevision === null ? 1 : expectedRevision + 1);
  const p = change.pruned;
  const pruned: PrunedChange | undefined = p === undefined ? undefined : "append" in p ? { append: prepareMessages(doc.id, p.append) } : { replace: prepareMessages(doc.id, p.replace) };
  await ctx.beforeWrite();
  const cols = sessionColumns(doc, doc.messages, true, ctx.codec);
  const rows = messageRows(doc.messages, ctx.codec);
  const attempt = async (claim: sql.Claim): Promise<Session> => {
    const reason = await ctx.tx(async (c) => {
      let reason = change.reason;
      if (expectedRevision === null) {
        const ins = sql.insertSession(cols, rows, claim);
        await c.query(ins.text, ins.values);
        await insertMessages(c, ctx.codec, doc.id, doc.messages, 1);
        reason ??= "created";
      } else {
        const locked = (await c.query<{ revision: number; status: Session["status"]; message_count: number; next_seq: string }>(sql.LOCK_SESSION, [doc.id])).rows[0];
        if (locked?.revision !== expectedRevision) throw conflictError(doc.id, locked?.revision ?? null, expectedRevision);
        reason ??= inferReason({ status: locked.status, messageCount: locked.message_count }, { status: doc.status, messageCount: doc.messages.length });
        await syncMessages(c, cols, rows, Number(locked.next_seq), claim);
      }
      await writePruned(c, ctx.codec, doc.id, pruned);
      return reason;
    });
    ctx.notify(doc.id, doc.key, doc.revision, reason);
    return doc;
  };
  try {
    return await attempt("if-free");
  } catch (err) {
    if (errorCode(err) !== "23505") throw err;
    // Two writers raced for a free live claim: this one goes without it.
    if ((err as { constraint?: string }).constraint === LIVE_KEY_INDEX) return attempt("none");
    throw conflictError(doc.id, await storedRevision(ctx, doc.id), expectedRevision);
  }
}

/**
 * An append: the header row patched with the header change and the new
 * message rows inserted, under the revision check, as one statement (with
 * the notification when the store is otherwise quiet). Only the delta is
 * validated and sent; nothing stored is read back.
 */
export async function appendDelta(ctx: WriteContext, id: string, baseRevision: number, header: HeaderChange, messages: readonly Message[]): Promise<Appended> {
  const delta = prepareAppend(id, header, messages);
  await ctx.beforeWrite();
  const h = delta.header;
  // The header keeps the revision too. Key by key, as the patch replaces them: their sizes as JSON, so the header's byte count follows.
  const patch = { ...h, revision: baseRevision + 1 };
  const change = JSON.stringify(patch);
  let changeBytes = 0;
  for (const value of Object.values(patch)) changeBytes += Buffer.byteLength(JSON.stringify(value), "utf8");
  const rows = messageRows(delta.messages, ctx.codec);
  const values: unknown[] = [
    id,
    baseRevision,
    h.status,
    h.updatedAt,
    h.lastActivityAt,
    Date.parse(h.lastActivityAt),
    h.expiredAt,
    h.archivedAt,
    change,
    changeBytes,
    h.context.tokensInUse,
    rows.docs,
    rows.bytes,
    rows.ids,
    rows.clientIds,
  ];
  const inline = await ctx.inlineChannel();
  const [r] =
    inline === undefined
      ? await ctx.query<{ updated: number; key: string }>(APPEND, values, "openclaw_append_delta")
      : await ctx.query<{ updated: number; key: string }>(APPEND_NOTIFY, [...values, ...inline], "openclaw_append_delta_notify");
  if (r?.updated !== 1) throw conflictError(id, await storedRevision(ctx, id), baseRevision);
  if (inline === undefined) ctx.notify(id, r.key, baseRevision + 1, "appended");
  return { revision: baseRevision + 1 };
}

/**
 * A fold's commit (Commit.folds) as one statement (sql.FOLD): the header row
 * rewritten, the folded message rows moved to the pruned log; only the new
 * header and the folded messages are validated and sent, the history kept is
 * neither read nor rewritten. Undefined, with nothing written, when the row
 * is at the revision but does not hold what the fold was built on (the caller
 * then commits the whole document); CONFLICT when the revision moved.
 */
export async function commitFold(ctx: WriteContext, change: Commit, expectedRevision: number, foldedIn: readonly Message[]): Promise<Session | undefined> {
  const { session } = change;
  const doc = { ...(await prepareDocument({ ...session, messages: [] }, expectedRevision + 1)), messages: session.messages };
  const folded = messageRows(prepareMessages(doc.id, foldedIn), ctx.codec);
  await ctx.beforeWrite();
  const c = sessionColumns(doc, doc.messages, true, ctx.codec);
  const values = [
    doc.id,
    expectedRevision,
    folded.ids,
    c.messageCount,
    c.status,
    c.updatedAt,
    c.lastActivityAt,
    c.lastActivityMs,
    c.expiredAt,
    c.archivedAt,
    c.tokens,
    c.header,
    c.headerBytes,
    c.summary ?? null,
    c.summaryBytes ?? 0,
    folded.docs,
  ];
  const [row] = await ctx.query<{ key: string }>(sql.FOLD, values, "openclaw_fold");
  if (row === undefined) {
    const stored = await storedRevision(ctx, doc.id);
    if (stored !== expectedRevision) throw conflictError(doc.id, stored, expectedRevision);
    return undefined;
  }
  ctx.notify(doc.id, row.key, doc.revision, change.reason ?? "compacted");
  return doc;
}

/**
 * One attempt at creating the live session of `key`: a claim held by a
 * session no longer live at the cutoff is released, then the new row is
 * inserted only if it can take the claim. False when another session holds
 * it (a racing creator won): the caller looks again.
 */
export async function createLive(ctx: WriteContext, key: string, cutoffMs: number | null, draft: Session): Promise<Session | undefined> {
  const doc = await prepareDocument(draft, 1);
  await ctx.beforeWrite();
  const cols = sessionColumns(doc, doc.messages, true, ctx.codec);
  const rows = messageRows(doc.messages, ctx.codec);
  const made = await ctx.tx(async (c) => {
    await c.query(sql.RELEASE_STALE_CLAIM, [key, cutoffMs]);
    const ins = sql.insertSession({ ...cols, key, live: true }, rows, "or-nothing");
    if ((await c.query(ins.text, ins.values)).rowCount !== 1) return false;
    await insertMessages(c, ctx.codec, doc.id, doc.messages, 1);
    return true;
  });
  if (!made) return undefined;
  ctx.notify(doc.id, doc.key, doc.revision, "created");
  return doc;
}
