import { OpenclawError } from "../../errors.js";

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
