import type { PoolClient } from "pg";
import { OpenclawError } from "../../errors.js";
import { MIGRATIONS } from "./_migrations.js";

/** The newest schema version this code knows. */
export const SCHEMA_VERSION = MIGRATIONS.reduce((v, m) => Math.max(v, m.version), 0);

async function appliedVersion(client: PoolClient): Promise<number> {
  const exists = await client.query<{ t: string | null }>(`SELECT to_regclass('schema_migrations')::text AS t`);
  if (exists.rows[0]?.t == null) return 0;
  const r = await client.query<{ v: number | null }>(`SELECT max(version) AS v FROM schema_migrations`);
  return r.rows[0]?.v ?? 0;
}

/**
 * Brings the schema up to date: every missing step in one transaction under
 * a transaction-level advisory lock on the schema's name, so instances that
 * start together wait for the first one and then find nothing left to do.
 * A schema newer than this code is refused rather than guessed at.
 */
export async function migrate(client: PoolClient, schema: string): Promise<void> {
  // Most opens find the schema current: checked without the lock first.
  const seen = await appliedVersion(client);
  if (seen === SCHEMA_VERSION) return;
  if (seen > SCHEMA_VERSION) throw tooNew(seen);
  await client.query("BEGIN");
  try {
    await client.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`openclaw-migrate:${schema}`]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${client.escapeIdentifier(schema)}`);
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const current = await appliedVersion(client);
    if (current > SCHEMA_VERSION) throw tooNew(current);
    for (const m of MIGRATIONS) {
      if (m.version <= current) continue;
      for (const statement of m.statements) await client.query(statement);
      await client.query(`INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, [m.version, m.name]);
    }
    await client.query("COMMIT");
  } catch (err) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw err;
  }
}

function tooNew(version: number): OpenclawError {
  return new OpenclawError("STORAGE", `the postgres store's schema is at version ${version}, newer than this openclaw knows (${SCHEMA_VERSION}); upgrade openclaw to use it`);
}
