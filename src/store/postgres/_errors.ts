import { OpenclawError } from "../../errors.js";
import { oneLine } from "../_document.js";
import { scrub } from "./_connect.js";

/** Error codes (Node's and SQLSTATE classes) that mean the server cannot be reached or went away. */
const NETWORK_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ENOTFOUND", "EAI_AGAIN", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "EPIPE"]);
const UNAVAILABLE_SQLSTATES = new Set(["57P01", "57P02", "57P03", "53300"]);

/** SQLSTATE of a server error, or a Node error code; undefined when neither. */
export function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

/** True when `err` means the connection failed or dropped rather than the statement being refused. */
export function isConnectionFault(err: unknown): boolean {
  const code = errorCode(err);
  if (code !== undefined && (NETWORK_CODES.has(code) || UNAVAILABLE_SQLSTATES.has(code) || code.startsWith("08"))) return true;
  const message = err instanceof Error ? err.message : "";
  return /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|not queryable/i.test(message);
}

/**
 * The one-line OpenclawError for a driver or server failure. The location
 * (host, port, database) is named; user names, passwords and the URI never
 * are, even where the server's own message quotes them.
 */
export function storeError(err: unknown, action: string, location: string, secrets: readonly string[]): OpenclawError {
  if (err instanceof OpenclawError) return err;
  const code = errorCode(err);
  const raw = err instanceof Error ? err.message : String(err);
  const reason = oneLine(scrub(raw, secrets), 160);
  // The driver's error may quote the user name; only a scrubbed copy travels as the cause.
  const cause = new Error(scrub(raw, secrets));
  if (code === "28P01" || code === "28000") {
    return new OpenclawError("STORE_UNAVAILABLE", `cannot ${action}: the postgres server at ${location} refused the credentials; check the user and password of the store URI`, { cause });
  }
  if (code === "3D000") {
    return new OpenclawError("STORE_UNAVAILABLE", `cannot ${action}: the database of ${location} does not exist; create it or fix the store URI`, { cause });
  }
  if (isConnectionFault(err)) {
    // A SQLSTATE alone ("57P03") does not say what happened; the server's own words do ("the database system is starting up").
    const why = code === undefined ? reason : /^[0-9][0-9A-Z]{4}$/.test(code) ? `${reason}; SQLSTATE ${code}` : code;
    return new OpenclawError("STORE_UNAVAILABLE", `cannot ${action}: the postgres server at ${location} is unavailable (${why}); retry once it is back`, { cause, userError: false });
  }
  return new OpenclawError("STORAGE", `cannot ${action} in the postgres store at ${location}: ${reason}${code === undefined ? "" : ` (SQLSTATE ${code})`}`, { cause, userError: false });
}
