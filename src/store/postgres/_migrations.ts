/** One schema step: applied once, in order, recorded in `schema_migrations`. */
export interface Migration {
  version: number;
  name: string;
  /** Statements run in order inside the migration's transaction. */
  statements: readonly string[];
}

/**
 * Every schema step, oldest first. A released step is never edited: a change
 * is a new step, so a store created by any version upgrades the same way.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "sessions, messages and pruned history",
    statements: [
      // Documents are stored as `json`, not `jsonb`: json keeps the text as
      // written, so a document reads back byte-for-byte (jsonb reorders keys).
      // The columns beside it are what list, stats and routing read, so
      // listing never touches a document or a message.
      `CREATE TABLE sessions (
        id text COLLATE "C" PRIMARY KEY,
        key text NOT NULL,
        -- The key while this session is the one findOrCreateLive created or
        -- confirmed as live; NULL otherwise. Unique: two racing creators
        -- cannot both make a live session for one key.
        live_key text,
        kind text NOT NULL,
        channel text NOT NULL,
        status text NOT NULL,
        created_at text NOT NULL,
        updated_at text NOT NULL,
        last_activity_at text NOT NULL,
        -- The instant in epoch milliseconds, as Date.parse reads it, so order
        -- and expiry agree exactly with the other backends.
        last_activity_ms bigint NOT NULL,
        expired_at text,
        archived_at text,
        revision integer NOT NULL,
        message_count integer NOT NULL,
        tokens integer NOT NULL,
        -- Sequence number the next appended message gets.
        next_seq bigint NOT NULL,
        -- The document without its messages (an empty array in their place).
        header json NOT NULL,
        header_bytes integer NOT NULL,
        message_bytes bigint NOT NULL,
        -- Bytes of the pruned log's messages, so the store's size is one
        -- aggregate over this table and shrinks as soon as rows are deleted.
        pruned_bytes bigint NOT NULL DEFAULT 0
      )`,
      `CREATE UNIQUE INDEX sessions_live_key ON sessions (live_key) WHERE live_key IS NOT NULL`,
      // list's order (newest activity, then newest id): a page is read off the index.
      `CREATE INDEX sessions_activity ON sessions (last_activity_ms DESC, id DESC)`,
      `CREATE INDEX sessions_key ON sessions (key, id DESC)`,
      `CREATE TABLE messages (
        session_id text COLLATE "C" NOT NULL,
        seq bigint NOT NULL,
        message_id text NOT NULL,
        client_id text,
        doc json NOT NULL,
        PRIMARY KEY (session_id, seq)
      )`,
      `CREATE TABLE pruned (
        session_id text COLLATE "C" NOT NULL,
        seq bigint NOT NULL,
        message_id text NOT NULL,
        doc json NOT NULL,
        PRIMARY KEY (session_id, seq),
        -- A fold logged again after a crash keeps the first copy of each id.
        UNIQUE (session_id, message_id)
      )`,
    ],
  },
  {
    version: 2,
    name: "session counts kept by triggers",
    statements: [
      // How many sessions each stored status bucket and kind holds, so list's
      // total and stats() read a few rows instead of counting every session.
      // created and active share the "live" bucket: the first append of a
      // session moves it from one to the other, and that must not touch a
      // counter row every concurrent writer shares. Rows are striped by a
      // hash of the session id: concurrent creators mostly lock different
      // rows, and each stripe holds an exact count of its own sessions.
      `CREATE TABLE session_counts (
        bucket text NOT NULL,
        kind text NOT NULL,
        stripe integer NOT NULL,
        n bigint NOT NULL,
        PRIMARY KEY (bucket, kind, stripe)
      )`,
      // Rows are changed in key order in every statement, so two writers
      // moving sessions in opposite directions cannot deadlock on them.
      `CREATE FUNCTION session_counts_inserted() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
      BEGIN
        INSERT INTO session_counts (bucket, kind, stripe, n)
          SELECT CASE WHEN status IN ('created', 'active') THEN 'live' ELSE status END, kind, abs(hashtext(id) % 16), count(*)
          FROM added GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
          ON CONFLICT (bucket, kind, stripe) DO UPDATE SET n = session_counts.n + excluded.n;
        RETURN NULL;
      END $$`,
      `CREATE FUNCTION session_counts_deleted() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
      BEGIN
        INSERT INTO session_counts (bucket, kind, stripe, n)
          SELECT CASE WHEN status IN ('created', 'active') THEN 'live' ELSE status END, kind, abs(hashtext(id) % 16), -count(*)
          FROM removed GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
          ON CONFLICT (bucket, kind, stripe) DO UPDATE SET n = session_counts.n + excluded.n;
        RETURN NULL;
      END $$`,
      `CREATE FUNCTION session_counts_moved() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
      BEGIN
        INSERT INTO session_counts (bucket, kind, stripe, n)
          SELECT b, k, abs(hashtext(NEW.id) % 16), d FROM (VALUES
            (CASE WHEN OLD.status IN ('created', 'active') THEN 'live' ELSE OLD.status END, OLD.kind, -1),
            (CASE WHEN NEW.status IN ('created', 'active') THEN 'live' ELSE NEW.status END, NEW.kind, 1)) AS v(b, k, d)
          ORDER BY b, k
          ON CONFLICT (bucket, kind, stripe) DO UPDATE SET n = session_counts.n + excluded.n;
        RETURN NULL;
      END $$`,
      `CREATE FUNCTION session_counts_cleared() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
      BEGIN
        DELETE FROM session_counts;
        RETURN NULL;
      END $$`,
      // Statement triggers with transition tables for inserts and deletes (an
      // import or a bulk load is one statement); a row trigger for updates,
      // run only when the bucket or the kind changes, which an append never does.
      `CREATE TRIGGER sessions_count_insert AFTER INSERT ON sessions REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION session_counts_inserted()`,
      `CREATE TRIGGER sessions_count_delete AFTER DELETE ON sessions REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION session_counts_deleted()`,
      `CREATE TRIGGER sessions_count_update AFTER UPDATE OF status, kind ON sessions FOR EACH ROW
        WHEN ((CASE WHEN OLD.status IN ('created', 'active') THEN 'live' ELSE OLD.status END) IS DISTINCT FROM (CASE WHEN NEW.status IN ('created', 'active') THEN 'live' ELSE NEW.status END)
          OR OLD.kind IS DISTINCT FROM NEW.kind)
        EXECUTE FUNCTION session_counts_moved()`,
      `CREATE TRIGGER sessions_count_truncate AFTER TRUNCATE ON sessions FOR EACH STATEMENT EXECUTE FUNCTION session_counts_cleared()`,
      // Counted after the triggers exist: creating them locked the table
      // against writers until this migration commits, so nothing is missed.
      `INSERT INTO session_counts (bucket, kind, stripe, n)
        SELECT CASE WHEN status IN ('created', 'active') THEN 'live' ELSE status END, kind, abs(hashtext(id) % 16), count(*)
        FROM sessions GROUP BY 1, 2, 3`,
      // What stats() splits the live bucket by: sessions never written to, and
      // live sessions by last activity (those before a cutoff count as expired).
      `CREATE INDEX sessions_created ON sessions (kind) WHERE status = 'created'`,
      `CREATE INDEX sessions_live_activity ON sessions (last_activity_ms) INCLUDE (kind, status) WHERE status IN ('created', 'active')`,
    ],
  },
  {
    version: 3,
    name: "the summary apart from the header",
    statements: [
      // The rolling summary can be tens of kilobytes and changes only when
      // the session folds, while every append rewrites the header: kept in a
      // column of its own, an append writes a small header. The header then
      // holds "summary": null in its place. A header that still holds the
      // summary (a row written before this step, or by an older version)
      // wins, and the next append moves it here.
      `ALTER TABLE sessions ADD COLUMN summary json, ADD COLUMN summary_bytes integer NOT NULL DEFAULT 0`,
    ],
  },
  {
    version: 4,
    name: "turn leases",
    statements: [
      // One row per session that ever had a turn: who holds its turn and
      // until when (the server's clock, so the processes' clocks need not
      // agree), and which waiting holder is to be served next.
      `CREATE TABLE turn_leases (
        session_id text COLLATE "C" PRIMARY KEY,
        holder text NOT NULL,
        token text NOT NULL,
        expires_at timestamptz NOT NULL,
        wanted_by text,
        wanted_until timestamptz
      )`,
    ],
  },
  {
    version: 5,
    name: "encryption key ids",
    statements: [
      // The ids (digests, never the keys) of the keys content is sealed with;
      // no row: the store never held encrypted content. Two rows only while
      // a rekey runs. A store opened with another key, or none, refuses
      // before it reads or writes a session.
      `CREATE TABLE encryption_keys (key_id text COLLATE "C" PRIMARY KEY)`,
    ],
  },
  {
    version: 6,
    name: "turn leases unlogged",
    statements: [
      // A lease is worth nothing after a server crash (its turn's renewals
      // then fail and the turn stops), so its changes need not wait for the
      // WAL to be flushed: unlogged, taking and giving back a lease costs a
      // turn no fsync. A crash empties the table; every lease is free again.
      `ALTER TABLE turn_leases SET UNLOGGED`,
    ],
  },
  {
    version: 7,
    name: "token usage beside the header",
    statements: [
      // The session's usage totals, kept by the database from the header every
      // write already sends (context.usage is never sealed), so list and the
      // usage report read them without parsing headers and no write statement
      // changes. NULL until the session records its first model call.
      `ALTER TABLE sessions ADD COLUMN usage json GENERATED ALWAYS AS (header->'context'->'usage') STORED`,
    ],
  },
  {
    version: 8,
    name: "label and origin beside the header",
    statements: [
      // As usage: kept by the database from the header (neither is sealed),
      // so list and search show and match them without parsing headers.
      `ALTER TABLE sessions ADD COLUMN label text GENERATED ALWAYS AS (header->>'label') STORED`,
      `ALTER TABLE sessions ADD COLUMN origin json GENERATED ALWAYS AS (header->'origin') STORED`,
    ],
  },
];
