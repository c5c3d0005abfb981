import type { SummarizerDeps } from "../context/summarizer.js";
import type { SessionStore } from "../store/store.js";
import type { WriteOptions } from "./_context.js";
import type { JsonValue, SessionKind, SessionStatus } from "../session/types.js";

/** Options of {@link SessionManager.open}. */
export interface OpenOptions {
  /** State directory; default from OPENCLAW_STATE_DIR or ~/.openclaw. */
  stateDir?: string;
  /** Config file; default from OPENCLAW_CONFIG_PATH or <state>/config.json. */
  configPath?: string;
  /** A config object to use instead of reading the file (library use, tests). */
  config?: unknown;
  /** Store URI: `file:<dir>` (default: the state dir) or `memory:`. */
  storeUri?: string;
  /** An already open store to use instead of `storeUri` (embedding, tests); the manager closes it on close. */
  store?: SessionStore;
  /** Receives non-fatal warnings (unknown config keys, quarantined files). Default: stderr. */
  warn?: (message: string) => void;
  /** Clock; tests pass a fixed one. */
  now?: () => Date;
  /** Summarizer seams (a test server's fetch, an injected summarizer). */
  summarizerDeps?: SummarizerDeps;
}

/** Changes {@link SessionManager.edit} applies in one save. */
export interface SessionEdit {
  /** Preferences to set (JSON values). */
  set?: Record<string, JsonValue>;
  /** Preference keys to remove. */
  unset?: readonly string[];
  allow?: string[];
  deny?: string[];
  removeAllow?: string[];
  removeDeny?: string[];
  /** Replaces the system prompt; "" removes it. */
  system?: string;
  /** Names the session (shown in lists, matched by search); "" removes the label. */
  label?: string;
}

/** Filters of {@link SessionManager.list}. */
export interface ListOptions {
  /** Effective status, or "all"; default: everything but archived. */
  status?: SessionStatus | "all";
  kind?: SessionKind;
  channel?: string;
  key?: string;
  /** Only sessions active in the last N minutes. */
  activeWithinMinutes?: number;
  limit?: number;
  offset?: number;
}

/** What `clear` removed. */
export interface ClearReport {
  id: string;
  messages: number;
  pruned: number;
  summary: boolean;
}

/** Options of a message-recording call. */
export interface AppendOptions extends WriteOptions {
  /** The sender's id for this message: a retry with the same id stores nothing twice. */
  clientMessageId?: string;
}
