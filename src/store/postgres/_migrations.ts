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
];
