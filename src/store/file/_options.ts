import { OpenclawError } from "../../errors.js";
import type { Keyring } from "../_crypto.js";
import type { StoreWarning } from "../store.js";

/** Options of {@link FileStore}. */
export interface FileStoreOptions {
  /** The state directory; sessions live in `<dir>/sessions`. */
  dir: string;
  /** How long `withLock` waits for another process (default 10 s). */
  lockTimeoutMs?: number;
  /** A lock not refreshed for this long counts as abandoned (default 30 s; live holders refresh it). */
  staleLockMs?: number;
  /** Receives one-line reports of problems worked around; default: stderr. */
  warn?: StoreWarning;
  /** Journal size in bytes past which it is folded into the index snapshot (default 400 kB, ~1000 changes). */
  journalFoldBytes?: number;
  /** How often `watch` looks at the index for other processes' changes (default 100 ms). */
  watchIntervalMs?: number;
  /** Longest delay between an append and the checkpoint that writes it into the session's JSON document (default 1 s). */
  checkpointMs?: number;
  /** Seals content with these keys (see OpenStoreOptions.keyring). */
  keyring?: Keyring;
  /** Accepts a write key the store does not record yet (a rekey). */
  rekeying?: boolean;
}

/** How long `withLock` waits for another process by default. */
export const DEFAULT_LOCK_TIMEOUT_MS = 10_000;
/** Age at which an unrefreshed lock counts as abandoned by default. */
export const DEFAULT_STALE_LOCK_MS = 30_000;

/** `value`, or `fallback` when absent; INVALID_ARGUMENT unless a positive finite number. */
export function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) {
    throw new OpenclawError("INVALID_ARGUMENT", `file store: ${name} must be a positive number, got ${String(value)}`);
  }
  return value;
}
