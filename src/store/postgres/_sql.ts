import type { ListQuery } from "../store.js";
import type { MessageRows, SessionColumns } from "./_rows.js";

// Every statement is parameterised; table names are unqualified and resolve
// through the connection's search_path (the URI's schema).

const SIZE = "header_bytes + message_bytes + greatest(message_count - 1, 0)";

/** Columns of a summary (see SummaryRow). */
export const SUMMARY_COLUMNS = `id, key, kind, channel, status, message_count, tokens, created_at, updated_at, last_activity_at,
  last_activity_ms, expired_at, archived_at, revision, ${SIZE} AS size_bytes, usage, label, origin`;

/** One whole document: header, revision, size and its messages in order, read in one snapshot. */
export const GET_DOCUMENT = `SELECT s.header, s.summary, ${SIZE} AS size_bytes,
  (SELECT coalesce(json_agg(m.doc ORDER BY m.seq), '[]'::json) FROM messages m WHERE m.session_id = s.id) AS messages
  FROM sessions s WHERE s.id = $1`;

/** The stored revision alone. */
export const REVISION_OF = `SELECT revision FROM sessions WHERE id = $1`;

/** The row locked for a commit, with what the change reason is inferred from. */
export const LOCK_SESSION = `SELECT revision, status, message_count, next_seq FROM sessions WHERE id = $1 FOR UPDATE`;

/** A session's message rows as sequence number, id and a digest of the stored text, in order. */
export const MESSAGE_DIGESTS = `SELECT seq, message_id, md5(doc::text) AS h FROM messages WHERE session_id = $1 ORDER BY seq`;

/** Removes some of a session's message rows by sequence number. */
export const DELETE_MESSAGE_SEQS = `DELETE FROM messages WHERE session_id = $1 AND seq = ANY($2::bigint[])`;

/** The pruned log, oldest first. */
export const READ_PRUNED = `SELECT doc FROM pruned WHERE session_id = $1 ORDER BY seq`;

/**
 * Notifications to every listening store instance, in order, in a statement
 * of their own committed without waiting for the WAL flush: nothing durable
 * depends on it, and a synchronous commit would hold the database-wide
 * notify lock for the length of a flush.
 */
export const NOTIFY_BATCH = `SELECT set_config('synchronous_commit', 'off', true) AS sync,
  (SELECT count(pg_notify($1, t.payload)) FROM (SELECT payload FROM unnest($2::text[]) WITH ORDINALITY AS u(payload, ord) ORDER BY ord) t)::int AS sent`;

/** How a new row takes its key's live claim. */
export type Claim = "if-free" | "none" | "or-nothing";

const INSERT_COLUMNS = `id, key, kind, channel, status, created_at, updated_at, last_activity_at, last_activity_ms, expired_at, archived_at,
  revision, message_count, tokens, header, header_bytes, next_seq, message_bytes, summary, summary_bytes, live_key`;

/**
 * INSERT of a new session row. "if-free" takes the key's live claim when no
 * other session holds it; "or-nothing" inserts only when it can take the
 * claim (RETURNING no row otherwise), which is what find-or-create needs.
 */
export function insertSession(c: SessionColumns, rows: MessageRows, claim: Claim): { text: string; values: unknown[] } {
  const values: unknown[] = [
    c.id,
    c.key,
    c.kind,
    c.channel,
    c.status,
    c.createdAt,
    c.updatedAt,
    c.lastActivityAt,
    c.lastActivityMs,
    c.expiredAt,
    c.archivedAt,
    c.revision,
    c.messageCount,
    c.tokens,
    c.header,
    c.headerBytes,
    rows.docs.length + 1,
    rows.bytes,
    c.summary ?? null,
    c.summaryBytes ?? 0,
  ];
  const claimExpr = !c.live || claim === "none" ? "NULL" : claim === "or-nothing" ? "$2" : "CASE WHEN NOT EXISTS (SELECT 1 FROM sessions WHERE live_key = $2) THEN $2 END";
  const conflict = claim === "or-nothing" && c.live ? " ON CONFLICT (live_key) WHERE live_key IS NOT NULL DO NOTHING" : "";
  const params = values.map((_, i) => `$${i + 1}${i === 14 || i === 18 ? "::json" : ""}`).join(", ");
  return { text: `INSERT INTO sessions (${INSERT_COLUMNS}) VALUES (${params}, ${claimExpr})${conflict} RETURNING id`, values };
}

/**
 * UPDATE of the header columns for a whole-document commit: a live session
 * keeps its claim, or ("if-free") takes the key's claim when no other
 * session holds it (import over an archived copy, unarchive); any other
 * status drops it.
 */
export function updateSession(c: SessionColumns, rows: MessageRows, nextSeq: number, claim: Claim = "if-free"): { text: string; values: unknown[] } {
  const take = claim === "none" ? "false" : "NOT EXISTS (SELECT 1 FROM sessions o WHERE o.live_key = $2 AND o.id <> $1)";
  return {
    text: `UPDATE sessions SET key = $2, kind = $3, channel = $4, status = $5, created_at = $6, updated_at = $7, last_activity_at = $8,
      last_activity_ms = $9, expired_at = $10, archived_at = $11, revision = $12, message_count = $13, tokens = $14, header = $15::json,
      header_bytes = $16, next_seq = $17, message_bytes = $18,
      live_key = CASE WHEN $19::boolean AND (live_key IS NOT NULL OR ${take}) THEN $2 END,
      summary = $20::json, summary_bytes = $21
      WHERE id = $1`,
    values: [
      c.id,
      c.key,
      c.kind,
      c.channel,
      c.status,
      c.createdAt,
      c.updatedAt,
      c.lastActivityAt,
      c.lastActivityMs,
      c.expiredAt,
      c.archivedAt,
      c.revision,
      c.messageCount,
      c.tokens,
      c.header,
      c.headerBytes,
      nextSeq,
      rows.bytes,
      c.live,
      c.summary ?? null,
      c.summaryBytes ?? 0,
    ],
  };
}

/** INSERT of message rows numbered from `firstSeq`. */
export const INSERT_MESSAGES = `INSERT INTO messages (session_id, seq, message_id, client_id, doc)
  SELECT $1, $2::bigint + m.ord - 1, m.mid, m.cid, m.doc::json FROM unnest($3::text[], $4::text[], $5::text[]) WITH ORDINALITY AS m(doc, mid, cid, ord)`;

/** Removes a session's message rows (a whole-document commit writes them again). */
export const DELETE_MESSAGES = `DELETE FROM messages WHERE session_id = $1`;

/**
 * Appends to the pruned log after its last entry; an id already logged keeps
 * its first copy. The session row counts the bytes of what was inserted.
 */
export const APPEND_PRUNED = `WITH ins AS (
    INSERT INTO pruned (session_id, seq, message_id, doc)
    SELECT $1, coalesce((SELECT max(seq) FROM pruned WHERE session_id = $1), 0) + m.ord, m.mid, m.doc::json
    FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS m(doc, mid, ord)
    ON CONFLICT (session_id, message_id) DO NOTHING
    RETURNING octet_length(doc::text) AS b
  )
  UPDATE sessions SET pruned_bytes = pruned_bytes + (SELECT coalesce(sum(b), 0) FROM ins) WHERE id = $1`;

/**
 * A fold in one statement (one round trip, its own transaction): the header
 * row rewritten at revision $2 + 1 only when it stands at $2 and holds every
 * folded message ($3) among exactly $4 + cardinality($3) rows; those rows
 * deleted and their messages appended to the pruned log (an id already
 * logged keeps its first copy), the byte counters following. Nothing is
 * read back but whether it applied and the session's key.
 */
export const FOLD = `WITH s AS (
    UPDATE sessions SET status = $5, updated_at = $6, last_activity_at = $7, last_activity_ms = $8, expired_at = $9, archived_at = $10,
      revision = $2 + 1, message_count = $4, tokens = $11, header = $12::json, header_bytes = $13, summary = $14::json, summary_bytes = $15,
      message_bytes = message_bytes - (SELECT coalesce(sum(octet_length(doc::text)), 0) FROM messages WHERE session_id = $1 AND message_id = ANY($3::text[])),
      pruned_bytes = pruned_bytes + (SELECT coalesce(sum(octet_length(m.doc)), 0) FROM unnest($16::text[], $3::text[]) AS m(doc, mid)
        WHERE NOT EXISTS (SELECT 1 FROM pruned p WHERE p.session_id = $1 AND p.message_id = m.mid))
    WHERE id = $1 AND revision = $2 AND message_count = $4 + cardinality($3::text[])
      AND (SELECT count(*) FROM messages WHERE session_id = $1 AND message_id = ANY($3::text[])) = cardinality($3::text[])
    RETURNING key
  ), del AS (
    DELETE FROM messages WHERE session_id = $1 AND message_id = ANY($3::text[]) AND EXISTS (SELECT 1 FROM s)
  ), ins AS (
    INSERT INTO pruned (session_id, seq, message_id, doc)
    SELECT $1, coalesce((SELECT max(seq) FROM pruned WHERE session_id = $1), 0) + m.ord, m.mid, m.doc::json
    FROM unnest($16::text[], $3::text[]) WITH ORDINALITY AS m(doc, mid, ord) WHERE EXISTS (SELECT 1 FROM s)
    ON CONFLICT (session_id, message_id) DO NOTHING
  )
  SELECT key FROM s`;

/** Removes a session's pruned log. */
export const DELETE_PRUNED = `WITH d AS (DELETE FROM pruned WHERE session_id = $1) UPDATE sessions SET pruned_bytes = 0 WHERE id = $1`;

/** What the store holds, in bytes of its documents and pruned messages as JSON (the file backend's measure). */
export const STORED_BYTES = `SELECT coalesce(sum(${SIZE} + pruned_bytes), 0)::bigint AS n FROM sessions`;

/**
 * An append in one statement (so one round trip and its own transaction):
 * the header row UPDATE guarded by the revision and the message rows
 * numbered after the stored ones, all or nothing; with `notify`, the
 * notification too ($15 channel, $16 instance). Only the delta travels:
 * $9 holds the header fields an append changes, patched into the stored
 * header in place (its key order kept, its other fields untouched) with
 * `summary` left as null in its place; $10 is their JSON size, so the
 * header's byte count moves by the difference. Returns one row whose
 * `updated` is 0 when the revision did not match, with the session's key.
 */
export const appendStatement = (notify: boolean): string => `WITH s AS (
    UPDATE sessions SET status = $3, updated_at = $4, last_activity_at = $5, last_activity_ms = $6, expired_at = $7, archived_at = $8,
      revision = $2 + 1, message_count = message_count + cardinality($12::text[]), tokens = $11,
      header = (SELECT json_object_agg(e.key, CASE WHEN e.key = 'summary' THEN 'null'::json ELSE coalesce(p.value, e.value) END ORDER BY e.ord)
        FROM json_each(header) WITH ORDINALITY AS e(key, value, ord) LEFT JOIN json_each($9::json) AS p(key, value) ON p.key = e.key),
      -- the fields replaced, measured as stored; the summary counts once wherever it is kept.
      header_bytes = header_bytes + $10 - (SELECT coalesce(sum(octet_length(e.value::text)), 0) FROM json_each(header) AS e WHERE e.key IN (SELECT json_object_keys($9::json)))::int,
      -- a header that still holds the summary (written before the summary had a column) hands it over.
      summary = CASE WHEN json_typeof(header->'summary') = 'object' THEN header->'summary' ELSE summary END,
      summary_bytes = CASE WHEN json_typeof(header->'summary') = 'object' THEN octet_length((header->'summary')::text) - 4 ELSE summary_bytes END,
      next_seq = next_seq + cardinality($12::text[]), message_bytes = message_bytes + $13,
      live_key = CASE WHEN $3 IN ('created', 'active') THEN live_key END
    WHERE id = $1 AND revision = $2
    RETURNING id, key, revision, next_seq - cardinality($12::text[]) AS first_seq
  ), ins AS (
    INSERT INTO messages (session_id, seq, message_id, client_id, doc)
    SELECT s.id, s.first_seq + m.ord - 1, m.mid, m.cid, m.doc::json
    FROM s, unnest($12::text[], $14::text[], $15::text[]) WITH ORDINALITY AS m(doc, mid, cid, ord)
    RETURNING 1
  )${notify ? ", n AS (SELECT pg_notify($16, json_build_object('id', s.id, 'key', s.key, 'revision', s.revision, 'reason', 'appended', 'instance', $17::text)::text) FROM s)" : ""}
  SELECT (SELECT count(*) FROM s)::int AS updated, (SELECT key FROM s) AS key, (SELECT count(*) FROM ins)::int AS inserted${notify ? ", (SELECT count(*) FROM n)::int AS notified" : ""}`;

/** A deletion in one statement: the session, its messages and its pruned log, only at revision $2 when given. Returns the key when it was removed. */
export const DELETE_SESSION = `WITH d AS (DELETE FROM sessions WHERE id = $1 AND ($2::int IS NULL OR revision = $2::int) RETURNING id, key),
  dm AS (DELETE FROM messages WHERE session_id IN (SELECT id FROM d)),
  dp AS (DELETE FROM pruned WHERE session_id IN (SELECT id FROM d))
  SELECT d.key FROM d`;

/** The newest live session of a key at a cutoff (epoch ms; null: nothing expires), as every backend picks it. */
export const FIND_LIVE = `SELECT id FROM sessions WHERE key = $1 AND status IN ('created', 'active')
  AND ($2::bigint IS NULL OR last_activity_ms >= $2::bigint) ORDER BY id DESC LIMIT 1`;

/** Releases a key's live claim held by a session that is no longer live at the cutoff. */
export const RELEASE_STALE_CLAIM = `UPDATE sessions SET live_key = NULL WHERE live_key = $1
  AND NOT (status IN ('created', 'active') AND ($2::bigint IS NULL OR last_activity_ms >= $2::bigint))`;

/** Status as seen at the cutoff parameter `$n`, as in effectiveStatus. */
const effective = (n: number): string => `CASE WHEN status IN ('created', 'active') AND $${n}::bigint IS NOT NULL AND last_activity_ms < $${n}::bigint THEN 'expired' ELSE status END`;

/**
 * Counts for stats(): the counters by stored bucket and kind, the sessions
 * still at "created" by kind, and the live sessions whose last activity is
 * before the cutoff (they count as expired) by status and kind; the last two
 * are read off partial indexes that hold live or created sessions only.
 */
export const STATS = `SELECT 'bucket' AS part, bucket AS status, kind, sum(n)::int AS n FROM session_counts GROUP BY bucket, kind
  UNION ALL SELECT 'created', 'created', kind, count(*)::int FROM sessions WHERE status = 'created' GROUP BY kind
  UNION ALL SELECT 'stale', status, kind, count(*)::int FROM sessions
    WHERE status IN ('created', 'active') AND $1::bigint IS NOT NULL AND last_activity_ms < $1::bigint GROUP BY status, kind`;

/** Sessions in some stored buckets (live, expired, archived), optionally of some kinds, from the counters. */
export const COUNTED = `SELECT coalesce(sum(n), 0)::int AS n FROM session_counts WHERE bucket = ANY($1::text[]) AND ($2::text[] IS NULL OR kind = ANY($2::text[]))`;

/**
 * The stored buckets whose counters give the total of `query` exactly, or
 * undefined when they cannot (a filter on channel, key or activity, or a
 * status set that splits live sessions by the expiry cutoff): the caller
 * counts rows then. The default list, everything but archived, is answered
 * whatever the cutoff, since live sessions are created, active or expired
 * at any cutoff.
 */
export function countedBuckets(query: ListQuery): string[] | undefined {
  if (query.channel !== undefined || query.key !== undefined || query.activeSince !== undefined) return undefined;
  const statuses = new Set(query.statuses ?? ["created", "active", "expired", "archived"]);
  const live = ["created", "active", "expired"].filter((s) => statuses.has(s as "created")).length;
  const buckets: string[] = [];
  if (live === 3) buckets.push("live", "expired");
  else if (live > 0) {
    // Without a cutoff nothing live turns expired: the stored buckets are the effective ones.
    const cutoff = query.expiryCutoff ?? null;
    if (cutoff !== null || statuses.has("created") !== statuses.has("active")) return undefined;
    if (statuses.has("active")) buckets.push("live");
    if (statuses.has("expired")) buckets.push("expired");
  }
  if (statuses.has("archived")) buckets.push("archived");
  return buckets;
}

/** Summaries whose id starts with a prefix (the LIKE pattern, escaped), in id order. */
export const FIND_PREFIX = `SELECT ${SUMMARY_COLUMNS} FROM sessions WHERE id LIKE $1 ORDER BY id LIMIT $2`;

/** The WHERE clause and parameters of a list query (validated by the caller). */
export function listFilter(query: ListQuery): { where: string; values: unknown[] } {
  const values: unknown[] = [];
  const conds: string[] = [];
  const param = (v: unknown): string => {
    values.push(v);
    return `$${values.length}`;
  };
  if (query.kinds !== undefined) conds.push(`kind = ANY(${param([...query.kinds])}::text[])`);
  if (query.channel !== undefined) conds.push(`channel = ${param(query.channel)}`);
  if (query.key !== undefined) conds.push(`key = ${param(query.key)}`);
  if (query.activeSince !== undefined) conds.push(`last_activity_ms >= ${param(Date.parse(query.activeSince))}::bigint`);
  if (query.statuses !== undefined) {
    const cutoff = query.expiryCutoff ?? null;
    values.push(cutoff === null ? null : Date.parse(cutoff));
    const n = values.length;
    conds.push(`${effective(n)} = ANY(${param([...query.statuses])}::text[])`);
  }
  return { where: conds.length === 0 ? "" : `WHERE ${conds.join(" AND ")}`, values };
}
