import type { Pool, PoolClient } from "pg";
import { OpenclawError } from "../../errors.js";
import type { Keyring } from "../_crypto.js";
import type { StoreWarning } from "../store.js";

/** What the store needs from its URI, the credentials kept apart from everything printable. */
export interface Target {
  /** The URI handed to the driver (the store's own parameters removed). */
  connectionString: string;
  /** Schema holding the tables (`?schema=`; default "public"). */
  schema: string;
  /** The notification channel of this schema's changes. */
  channel: string;
  /** host:port/database?schema=…, for messages and `status`: no user, no password, no other parameter. */
  location: string;
  /** Strings that must never appear in a message (user name, password). */
  secrets: string[];
}

const SCHEMA_RE = /^[a-z_][a-z0-9_]{0,39}$/;

/** Refusal of a URI the store cannot use; the URI itself is never echoed, it may carry a password. */
function badUri(why: string): OpenclawError {
  return new OpenclawError("INVALID_ARGUMENT", `postgres store URI: ${why}; use postgres://user:password@host:port/database[?schema=name]`);
}

/** Splits a `postgres://` or `postgresql://` URI into what the driver gets and what may be shown. */
export function parseTarget(uri: string): Target {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw badUri("not a valid URL");
  }
  const secrets = [url.username, url.password, decodeSafe(url.username), decodeSafe(url.password)].filter((s) => s.length >= 3);
  const schema = url.searchParams.get("schema") ?? "public";
  if (!SCHEMA_RE.test(schema)) throw badUri("schema must be 1-40 lower-case letters, digits or underscores, starting with a letter or underscore");
  url.searchParams.delete("schema");
  const host = url.host === "" ? (url.searchParams.get("host") ?? "local socket") : url.host;
  const database = url.pathname.length > 1 ? decodeSafe(url.pathname.slice(1)) : "(default database)";
  return {
    connectionString: url.toString(),
    schema,
    channel: schema === "public" ? "openclaw_changes" : `openclaw_changes_${schema}`,
    location: `${url.protocol}//${host}/${database}${schema === "public" ? "" : `?schema=${schema}`}`,
    secrets,
  };
}

function decodeSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** `text` with every secret replaced, for messages that quote the server or the driver. */
export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) out = out.split(s).join("[redacted]");
  // Whatever still looks like a URL with user info loses it too.
  return out.replace(/([a-z][a-z0-9+.-]*:\/\/)[^\s/@]*@/gi, "$1[redacted]@");
}

/** What the PostgreSQL backend takes of the store options (the rest apply to other backends). */
export interface PostgresStoreOptions {
  /** Receives one-line reports of problems worked around (the change listener reconnecting). */
  warn?: StoreWarning;
  /** Most connections the pool keeps open (default {@link DEFAULT_POOL_MAX}); the change listener holds one more while anyone watches. */
  poolMax?: number;
  /** Seals content with these keys (see OpenStoreOptions.keyring). */
  keyring?: Keyring;
  /** Accepts a write key the store does not record yet (a rekey). */
  rekeying?: boolean;
}

/** Connections a store keeps open unless `poolMax` says otherwise. */
export const DEFAULT_POOL_MAX = 10;

/** Settings of every connection: the URI, the schema as search_path, a name operators can see in pg_stat_activity (the URI may set another). */
export interface ConnectionConfig {
  connectionString: string;
  options: string;
  application_name: string;
}

/** The connection settings of a store on `target`. */
export const connectionConfig = (target: Target): ConnectionConfig => ({ connectionString: target.connectionString, options: `-c search_path=${target.schema}`, application_name: "openclaw" });

/** The encryption key ids the store records, or null when it records none (a store never encrypted). */
export async function readKeyIds(db: Pool | PoolClient): Promise<string[] | null> {
  const ids = (await db.query<{ key_id: string }>("SELECT key_id FROM encryption_keys ORDER BY key_id")).rows.map((r) => r.key_id);
  return ids.length === 0 ? null : ids;
}
