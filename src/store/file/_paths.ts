import { join } from "node:path";
import { assertValidId, isValidId } from "../../session/ids.js";

/** Name of the index's own lock, distinct from any session id. */
export const INDEX_LOCK = "index";
/** Name of the store-wide waiter marker (`any.lock.want`), which every waiter refreshes besides its lock's own. */
const ANY_WAITER = "any";

const DOC_RE = /^(.+)\.json$/;
const LOCK_RE = /^(.+)\.lock$/;
const BREAKER_RE = /^(.+)\.lock\.break$/;
const WANT_RE = /^(.+)\.lock\.want$/;
const TMP_RE = /^\..+\.tmp$/;
const MESSAGES_RE = /^(.+)\.(\d{1,15})\.jsonl$/;

/** Where every file of a file store lives; each accessor validates the id before building a path. */
export class Layout {
  /** The state directory given by the operator. */
  readonly root: string;
  /** `<root>/sessions`, the only directory the store writes to. */
  readonly sessions: string;
  /** Corrupt documents are moved here rather than deleted. */
  readonly quarantine: string;
  /** The index snapshot. */
  readonly snapshot: string;
  /** The index journal (JSONL, append-only between folds). */
  readonly journal: string;
  /** The append log's segments (one writer per segment). */
  readonly log: string;
  /** The ids of the keys the store's content is sealed with (absent: never encrypted). */
  readonly keys: string;

  constructor(root: string) {
    this.root = root;
    this.sessions = join(root, "sessions");
    this.quarantine = join(this.sessions, "quarantine");
    this.snapshot = join(this.sessions, "index.json");
    this.journal = join(this.sessions, "index.journal");
    this.log = join(this.sessions, "log");
    this.keys = join(this.sessions, "encryption.json");
  }

  /** The session document. */
  doc(id: string): string {
    return join(this.sessions, `${assertValidId(id)}.json`);
  }

  /** Generation `gen` of the session's message file (its active history, one stored message a line). */
  messages(id: string, gen: number): string {
    return join(this.sessions, messageFileName(assertValidId(id), gen));
  }

  /** The session's pruned-history log. */
  pruned(id: string): string {
    return join(this.sessions, `${assertValidId(id)}.pruned.jsonl`);
  }

  /** The lock file of a session id or of the index. */
  lock(name: string): string {
    return join(this.sessions, `${lockName(name)}.lock`);
  }

  /** A waiter's marker asking the holder of a leased lock to give it back. */
  want(name: string): string {
    return join(this.sessions, `${lockName(name)}.lock.want`);
  }

  /** The store-wide marker a waiter refreshes with its own: while it is stale, no lock of the store is wanted. */
  get anyWant(): string {
    return join(this.sessions, `${ANY_WAITER}.lock.want`);
  }

  /** The short-lived directory that serialises breaking a stale lock. */
  breaker(name: string): string {
    return join(this.sessions, `${lockName(name)}.lock.break`);
  }
}

function lockName(name: string): string {
  return name === INDEX_LOCK ? name : assertValidId(name);
}

/** The session id a directory entry is the document of, if any. */
export function docIdOf(fileName: string): string | undefined {
  const id = DOC_RE.exec(fileName)?.[1];
  return id !== undefined && isValidId(id) ? id : undefined;
}

/** The name of generation `gen` of a session's message file. */
export function messageFileName(id: string, gen: number): string {
  return `${id}.${gen}.jsonl`;
}

/** The session id and generation a directory entry is a message file of, if any. */
export function messageFileOf(fileName: string): { id: string; gen: number } | undefined {
  const m = MESSAGES_RE.exec(fileName);
  return m !== null && isValidId(m[1] as string) ? { id: m[1] as string, gen: Number(m[2]) } : undefined;
}

/** The lock name (session id or "index") a directory entry is the lock file of, if any. */
export function lockNameOf(fileName: string): string | undefined {
  const name = LOCK_RE.exec(fileName)?.[1];
  return name !== undefined && (name === INDEX_LOCK || isValidId(name)) ? name : undefined;
}

/** The lock name a breaker directory belongs to, if any. */
export function breakerNameOf(fileName: string): string | undefined {
  const name = BREAKER_RE.exec(fileName)?.[1];
  return name !== undefined && (name === INDEX_LOCK || isValidId(name)) ? name : undefined;
}

/** The lock name a waiter's marker belongs to ("any" for the store-wide one), if any. */
export function wantNameOf(fileName: string): string | undefined {
  const name = WANT_RE.exec(fileName)?.[1];
  return name !== undefined && (name === INDEX_LOCK || name === ANY_WAITER || isValidId(name)) ? name : undefined;
}

/** True for a temp file left by an interrupted atomic write. */
export function isTempFile(fileName: string): boolean {
  return TMP_RE.test(fileName);
}
