import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { OpenclawError } from "../errors.js";
import type { Keyring } from "./_crypto.js";
import type { SessionStore, StoreWarning } from "./store.js";

/** Options every backend understands; each ignores what does not apply to it. */
export interface OpenStoreOptions {
  /** How long `withLock` waits for another process before LOCK_TIMEOUT (file backend; default 10 s). */
  lockTimeoutMs?: number;
  /** Age after which an unrefreshed lock counts as abandoned (file backend; default 30 s). */
  staleLockMs?: number;
  /** Receives one-line reports of problems worked around (corrupt files moved to quarantine). */
  warn?: StoreWarning;
  /** How often a watched store looks for other processes' changes (file backend; default 100 ms). */
  watchIntervalMs?: number;
  /** Most connections the store keeps open (postgres backend; default 10). */
  poolMax?: number;
  /**
   * Seals message contents, summaries, preferences and system prompts with
   * these keys (see loadStoreKeyring); without it the store writes plain
   * content and refuses to open one that records encryption keys.
   */
  keyring?: Keyring;
  /** Opens a store whose recorded keys the keyring holds even when its write key is not among them yet (a rekey). */
  rekeying?: boolean;
}

const SCHEME_RE = /^([a-z][a-z0-9+.-]+):/i;

/**
 * Opens a ready store from a URI: `file:<dir>`, `file:///abs/dir`, a plain
 * path (file backend), `memory:`, or `postgres://…` / `postgresql://…`.
 * Backends load lazily, so only the chosen one's code (and driver) is imported.
 */
export async function openStore(uri: string, options: OpenStoreOptions = {}): Promise<SessionStore> {
  const scheme = SCHEME_RE.exec(uri)?.[1]?.toLowerCase();
  if (scheme === undefined || scheme === "file") {
    const dir = scheme === undefined ? uri : filePath(uri);
    if (dir.trim() === "") {
      throw new OpenclawError("INVALID_ARGUMENT", 'store URI "file:" names no directory: use file:<state dir>');
    }
    const { openFileStore } = await import("./file/file-store.js");
    return openFileStore({ dir: resolve(dir), ...options });
  }
  if (scheme === "memory") {
    const { MemoryStore } = await import("./memory/memory-store.js");
    return new MemoryStore();
  }
  if (scheme === "postgres" || scheme === "postgresql") {
    // The driver is loaded only here, so other backends never pay for it.
    const { openPostgresStore } = await import("./postgres/postgres-store.js");
    return openPostgresStore(uri, options);
  }
  // Only the scheme is echoed: the rest of a URI may carry credentials.
  throw new OpenclawError("INVALID_ARGUMENT", `unsupported store URI scheme "${scheme}:": use file:<dir>, memory: or postgres://user:password@host:port/database`);
}

function filePath(uri: string): string {
  if (uri.toLowerCase().startsWith("file://")) {
    try {
      return fileURLToPath(uri);
    } catch {
      throw new OpenclawError("INVALID_ARGUMENT", "store URI is not a valid file:// URL: use file:///absolute/dir or file:<dir>");
    }
  }
  return uri.slice("file:".length);
}

/** The directory of a file-store URI (`file:<dir>`, `file:///dir` or a plain path); undefined for other backends. */
export function fileStoreDir(uri: string): string | undefined {
  const scheme = SCHEME_RE.exec(uri)?.[1]?.toLowerCase();
  const path = scheme === undefined ? uri : scheme === "file" ? filePath(uri) : "";
  return path.trim() === "" ? undefined : resolve(path);
}
