import { randomBytes } from "node:crypto";
import type { Client, Pool, PoolClient } from "pg";
import { OpenclawError } from "../../errors.js";
import { assertValidId } from "../../session/ids.js";
import type { Message, Session, SessionSummary } from "../../session/types.js";
import { closedError } from "../_document.js";
import { checkKeyIds, ContentCodec } from "../_crypto.js";
import { validateListQuery } from "../_query.js";
import type { Appended, Commit, EncryptedStore, HeaderChange, HeldLock, ListPage, ListQuery, Loaded, MaintenanceReport, SessionStore, StoreChange, StoreDescription, StoreStats, TurnLeases } from "../store.js";
import { connectionConfig, DEFAULT_POOL_MAX, parseTarget, readKeyIds, type ConnectionConfig, type PostgresStoreOptions, type Target } from "./_connect.js";
import { isConnectionFault, storeError } from "./_errors.js";
import { PostgresLeases } from "./_leases.js";
import { migrate } from "./_migrate.js";
import { ChangeListener } from "./_notify.js";
import { NotifyOutbox } from "./_outbox.js";
import { changePayload, toSummaryRow, type SummaryRow } from "./_rows.js";
import * as sql from "./_sql.js";
import { inTransaction } from "./_tx.js";
import { appendDelta, commitDocument, commitFold, createLive, type WriteContext } from "./_write.js";

export { DEFAULT_POOL_MAX, type PostgresStoreOptions } from "./_connect.js";

const cutoffMs = (cutoff: string | null | undefined): number | null => (cutoff === undefined || cutoff === null ? null : Date.parse(cutoff));

/**
 * The PostgreSQL backend: one row per session with the columns list and
 * routing read, messages and pruned history as rows, revision checks in SQL,
 * LISTEN/NOTIFY for other instances' changes. No `withLock`: writers from
 * several instances are ordered by the revision check and the manager's
 * optimistic retries, which cost no extra round trip when nobody races.
 */
export class PostgresStore implements SessionStore, EncryptedStore {
  /** Backend name. */
  readonly kind = "postgres";
  private closed = false;
  /** Writes under way, so a lone write can notify inside its own transaction. */
  private writing = 0;
  private readonly instance = randomBytes(8).toString("hex");
  private readonly listener: ChangeListener;
  private readonly outbox: NotifyOutbox;
  private readonly writes: WriteContext;
  /** Turn leases as rows (see _leases.ts). */
  readonly turnLeases: TurnLeases;
  private readonly codec: ContentCodec;
  private readonly rekeying: boolean;
  /** Set once this instance's first write found the key record agreeing. */
  private keysConfirmed: Promise<void> | undefined;

  /** Use {@link openPostgresStore}, which migrates the schema first. */
  constructor(
    makeClient: (config: ConnectionConfig) => Client,
    private readonly pool: Pool,
    private readonly target: Target,
    options: PostgresStoreOptions,
  ) {
    this.listener = new ChangeListener({
      makeClient: () => makeClient(this.clientConfig()),
      channel: target.channel,
      instance: this.instance,
      warn: options.warn ?? (() => {}),
      describe: (err) => storeError(err, "listen for changes", target.location, target.secrets).message,
    });
    const warn = options.warn ?? (() => {});
    this.codec = new ContentCodec(options.keyring);
    this.rekeying = options.rekeying === true;
    this.outbox = new NotifyOutbox(
      async (payloads) => void (await this.pool.query(sql.NOTIFY_BATCH, [target.channel, payloads])),
      (err) => warn(`postgres change notifications not sent (${storeError(err, "notify", target.location, target.secrets).message}); other instances see those changes on their next read`),
    );
    this.turnLeases = new PostgresLeases(async (action, name, text, values) => {
      this.assertOpen();
      try {
        return (await this.pool.query({ name, text, values })).rows as Record<string, unknown>[];
      } catch (err) {
        throw this.fail(err, action);
      }
    });
    this.writes = {
      codec: this.codec,
      beforeWrite: () =>
        (this.keysConfirmed ??= this.confirmKeys().catch((err: unknown) => {
          this.keysConfirmed = undefined;
          throw err;
        })),
      tx: (fn) => this.tx(fn),
      query: async (text, values, name) => (await this.pool.query(name === undefined ? { text, values } : { name, text, values })).rows,
      notify: (id, key, revision, reason) => this.outbox.post(changePayload(this.instance, id, key, revision, reason)),
      inlineNotify: async (id, key, revision, reason) => {
        if (this.writing !== 1) return undefined;
        // Earlier notifications go first; then a run of lone writes stays inline.
        await this.outbox.idle();
        return [target.channel, changePayload(this.instance, id, key, revision, reason)];
      },
      inlineChannel: async () => {
        if (this.writing !== 1) return undefined;
        await this.outbox.idle();
        return [target.channel, this.instance];
      },
    };
  }

  /** Loads a session, its messages in order; undefined when absent. */
  async get(id: string): Promise<Loaded | undefined> {
    assertValidId(id);
    return this.read("read a session", async () => {
      const [row] = (await this.pool.query<{ header: Session; summary: Session["summary"]; size_bytes: string; messages: Message[] }>(sql.GET_DOCUMENT, [id])).rows;
      if (row === undefined) return undefined;
      const session = row.header;
      // A header written before the summary had its own column still holds it (see migration 3).
      if (session.summary === null) session.summary = row.summary ?? null;
      session.messages = row.messages;
      return { session: this.codec.openSession(session, `session ${id}`) as Session, sizeBytes: Number(row.size_bytes) };
    });
  }

  /** Saves the document and its pruned change in one transaction; CONFLICT when the stored revision differs. */
  async commit(change: Commit): Promise<Session> {
    assertValidId(change.session.id);
    const { expectedRevision, pruned } = change;
    if (change.folds === true && expectedRevision !== null && pruned !== undefined && "append" in pruned) {
      const saved = await this.write("fold a session", () => commitFold(this.writes, change, expectedRevision, pruned.append));
      if (saved !== undefined) return saved;
    }
    return this.write("save a session", () => commitDocument(this.writes, change));
  }

  /** Inserts the new message rows and patches the header row, under the revision check, in one statement. */
  async appendMessages(id: string, baseRevision: number, header: HeaderChange, messages: readonly Message[], _held?: HeldLock): Promise<Appended> {
    assertValidId(id);
    return this.write("append messages", () => appendDelta(this.writes, id, baseRevision, header, messages));
  }

  /** Removes the session, its messages and pruned log; false when it did not exist. */
  async delete(id: string, _held?: HeldLock, expectedRevision?: number): Promise<boolean> {
    assertValidId(id);
    return this.write("delete a session", async () => {
      const [row] = (await this.pool.query<{ key: string }>(sql.DELETE_SESSION, [id, expectedRevision ?? null])).rows;
      if (row === undefined) return false;
      this.writes.notify(id, row.key, 0, "deleted");
      return true;
    });
  }

  /** Lists summaries from the session columns, newest activity first, paged by the database. */
  async list(query: ListQuery = {}): Promise<ListPage> {
    this.assertOpen();
    validateListQuery(query);
    const { where, values } = sql.listFilter(query);
    const page = [...values];
    let tail = "";
    if (query.limit !== undefined) {
      page.push(query.limit);
      tail += ` LIMIT $${page.length}`;
    }
    if (query.offset !== undefined && query.offset > 0) {
      page.push(query.offset);
      tail += ` OFFSET $${page.length}`;
    }
    // The total is exact either way; the counters answer the common queries without visiting every matching row.
    const buckets = sql.countedBuckets(query);
    return this.read("list sessions", async () => {
      const [items, count] = await Promise.all([
        this.pool.query<SummaryRow>(`SELECT ${sql.SUMMARY_COLUMNS} FROM sessions ${where} ORDER BY last_activity_ms DESC, id DESC${tail}`, page),
        buckets === undefined
          ? this.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM sessions ${where}`, values)
          : this.pool.query<{ n: number }>(sql.COUNTED, [buckets, query.kinds === undefined ? null : [...query.kinds]]),
      ]);
      const cut = cutoffMs(query.expiryCutoff);
      return { items: items.rows.map((r) => toSummaryRow(r, cut)), total: count.rows[0]?.n ?? 0 };
    });
  }

  /** The pruned log, oldest first. */
  async readPruned(id: string): Promise<Message[]> {
    assertValidId(id);
    return this.read("read the pruned history", async () =>
      (await this.pool.query<{ doc: Message }>(sql.READ_PRUNED, [id])).rows.map((r) => this.codec.openMessage(r.doc, `the pruned history of session ${id}`) as Message),
    );
  }

  /** The stored revision, or null. */
  async revisionOf(id: string): Promise<number | null> {
    assertValidId(id);
    return this.read("read a revision", async () => (await this.pool.query<{ revision: number }>(sql.REVISION_OF, [id])).rows[0]?.revision ?? null);
  }

  /** Counts by effective status and kind, from the counters and two partial indexes (see STATS). */
  async stats(expiryCutoff: string | null): Promise<StoreStats> {
    this.assertOpen();
    validateListQuery({ expiryCutoff });
    return this.read("count sessions", async () => {
      const stats: StoreStats = { total: 0, byStatus: { created: 0, active: 0, expired: 0, archived: 0 }, byKind: { dm: 0, group: 0, isolated: 0 } };
      type Row = { part: "bucket" | "created" | "stale"; status: string; kind: keyof StoreStats["byKind"]; n: number };
      for (const r of (await this.pool.query<Row>(sql.STATS, [cutoffMs(expiryCutoff)])).rows) {
        if (r.part === "bucket") {
          stats.total += r.n;
          stats.byKind[r.kind] += r.n;
          // Live sessions count as active until the other parts move some to created or expired.
          stats.byStatus[r.status === "live" ? "active" : (r.status as "expired" | "archived")] += r.n;
        } else if (r.part === "created") {
          stats.byStatus.active -= r.n;
          stats.byStatus.created += r.n;
        } else {
          stats.byStatus[r.status as "created" | "active"] -= r.n;
          stats.byStatus.expired += r.n;
        }
      }
      return stats;
    });
  }

  /** Summaries whose id starts with `prefix`, in id order, from the primary key's index. */
  async findByIdPrefix(prefix: string, limit: number): Promise<SessionSummary[]> {
    this.assertOpen();
    if (limit <= 0) return [];
    const pattern = `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    return this.read("look up an id prefix", async () => (await this.pool.query<SummaryRow>(sql.FIND_PREFIX, [pattern, limit])).rows.map((r) => toSummaryRow(r, null)));
  }

  /** The key's live session, created atomically when there is none: the live-claim index admits one creator. */
  async findOrCreateLive(key: string, expiryCutoff: string | null, create: () => Session | Promise<Session>): Promise<{ session: Session; created: boolean }> {
    this.assertOpen();
    const cut = cutoffMs(expiryCutoff);
    for (let attempt = 1; ; attempt++) {
      const live = await this.read("find a live session", async () => (await this.pool.query<{ id: string }>(sql.FIND_LIVE, [key, cut])).rows[0]?.id);
      if (live !== undefined) {
        const loaded = await this.get(live);
        if (loaded !== undefined) return { session: loaded.session, created: false };
        continue;
      }
      // The draft is made outside any transaction: `create` may read the store itself.
      const draft = await create();
      const made = await this.write("create a session", () => createLive(this.writes, key, cut, draft));
      if (made !== undefined) return { session: made, created: true };
      if (attempt >= 20) throw new OpenclawError("CONFLICT", `could not create or find the live session of ${key} after ${attempt} attempts; retry`);
    }
  }

  /** Delivers other instances' changes, via LISTEN on a dedicated connection. */
  watch(listener: (change: StoreChange) => void): () => void {
    this.assertOpen();
    return this.listener.add(listener);
  }

  /** Backend, location (no credentials) and server version. */
  async describe(): Promise<StoreDescription> {
    this.assertOpen();
    const version = await this.read("read the server version", async () => (await this.pool.query<{ v: string }>(`SELECT split_part(version(), ' ', 1) || ' ' || current_setting('server_version') AS v`)).rows[0]?.v);
    return { backend: this.kind, location: this.target.location, ...(version === undefined ? {} : { serverVersion: version.split(" (")[0] ?? version }) };
  }

  /**
   * Bytes of the stored documents and pruned messages as JSON, the measure
   * the file backend reports: the tables' own size on disk only shrinks after
   * a vacuum, so it would not follow what is stored.
   */
  async sizeOnDisk(): Promise<number> {
    this.assertOpen();
    return this.read("measure the store", async () => Number((await this.pool.query<{ n: string }>(sql.STORED_BYTES)).rows[0]?.n ?? 0));
  }

  /** The ids of the keys content is sealed with; null when the store never held encrypted content. */
  async keyIds(): Promise<string[] | null> {
    return this.read("read the encryption key ids", () => readKeyIds(this.pool));
  }

  /** Replaces the recorded key ids in one transaction (an empty list marks the store plain). */
  async recordKeyIds(ids: readonly string[]): Promise<void> {
    await this.write("record the encryption key ids", () =>
      this.tx(async (c) => {
        await c.query("DELETE FROM encryption_keys");
        if (ids.length > 0) await c.query("INSERT INTO encryption_keys (key_id) SELECT unnest($1::text[])", [[...ids]]);
      }),
    );
    this.keysConfirmed = undefined;
  }

  /** Always true: telling would take a scan of the session's message rows, which is what a search does next. */
  async mayContain(id: string, _text: string, _pruned: boolean): Promise<boolean> {
    this.assertOpen();
    assertValidId(id);
    return true;
  }

  /** Nothing to repair: the database keeps its own indexes consistent and autovacuum reclaims space. */
  async maintain(_options: { dryRun?: boolean } = {}): Promise<MaintenanceReport> {
    this.assertOpen();
    return { leftoversRemoved: 0, indexRebuilt: false, quarantined: [] };
  }

  /** Stops the listener and drains the pool (in-flight queries finish first); later calls reject with CLOSED. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.outbox.idle();
    await this.listener.close();
    await this.pool.end().catch(() => undefined);
  }

  /** Records the write key of a store that has none (a racing first writer with another key makes the check fail), then checks. */
  private async confirmKeys(): Promise<void> {
    const keyring = this.codec.keyring;
    if (keyring !== undefined && (await readKeyIds(this.pool)) === null) {
      await this.pool.query("INSERT INTO encryption_keys (key_id) SELECT $1 WHERE NOT EXISTS (SELECT 1 FROM encryption_keys) ON CONFLICT DO NOTHING", [keyring.write.id]);
    }
    checkKeyIds(this.target.location, await readKeyIds(this.pool), keyring, this.rekeying);
  }

  private clientConfig(): ConnectionConfig {
    return { ...connectionConfig(this.target), application_name: "openclaw-listen" };
  }

  private assertOpen(): void {
    if (this.closed) throw closedError(this.kind);
  }

  /** A read, retried once on a fresh connection when the first one turned out dead (a restart, a killed backend). */
  private async read<T>(action: string, fn: () => Promise<T>): Promise<T> {
    this.assertOpen();
    if (this.listener.pending !== undefined) await this.listener.pending;
    try {
      return await fn();
    } catch (err) {
      if (!isConnectionFault(err) || this.closed) throw this.fail(err, action);
      try {
        return await fn();
      } catch (again) {
        throw this.fail(again, action);
      }
    }
  }

  /** A write: never retried here, since a dropped connection leaves its outcome unknown. */
  private async write<T>(action: string, fn: () => Promise<T>): Promise<T> {
    this.assertOpen();
    if (this.listener.pending !== undefined) await this.listener.pending;
    this.writing++;
    try {
      return await fn();
    } catch (err) {
      throw this.fail(err, action);
    } finally {
      this.writing--;
    }
  }

  private fail(err: unknown, action: string): OpenclawError {
    if (this.closed && !(err instanceof OpenclawError)) return closedError(this.kind);
    return storeError(err, action, this.target.location, this.target.secrets);
  }

  private tx<T>(fn: (c: PoolClient) => Promise<T>): Promise<T> {
    return inTransaction(this.pool, fn);
  }
}

/**
 * Opens a ready PostgreSQL store on `uri` (`postgres://` or `postgresql://`,
 * optional `?schema=NAME`): loads the driver, checks the server answers and
 * applies pending migrations.
 */
export async function openPostgresStore(uri: string, options: PostgresStoreOptions = {}): Promise<SessionStore> {
  const target = parseTarget(uri);
  const pg = (await import("pg")).default;
  const max = options.poolMax ?? DEFAULT_POOL_MAX;
  if (!Number.isSafeInteger(max) || max < 1) throw new OpenclawError("INVALID_ARGUMENT", `poolMax must be a positive integer, got ${String(max)}`);
  const pool = new pg.Pool({ ...connectionConfig(target), max, connectionTimeoutMillis: 10_000 });
  // An idle connection the server closed (restart, terminated backend) is
  // dropped by the pool; without a listener that event would end the process.
  pool.on("error", () => {});
  pool.on("connect", (client) => client.on("error", () => {}));
  try {
    const client = await pool.connect();
    try {
      await migrate(client, target.schema);
      // A store opened with the wrong key, or none, refuses before it reads or writes a session.
      checkKeyIds(target.location, await readKeyIds(client), options.keyring, options.rekeying === true);
    } finally {
      client.release();
    }
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw storeError(err, "open the store", target.location, target.secrets);
  }
  return new PostgresStore((config) => new pg.Client(config), pool, target, options);
}
