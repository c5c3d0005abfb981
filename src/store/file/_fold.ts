import type { Message, Session } from "../../session/types.js";
import { conflictError, prepareDocument, prepareMessages } from "../_document.js";
import type { Commit } from "../store.js";
import type { SessionLog } from "./_checkpoint.js";
import type { DocumentFiles } from "./_documents.js";
import type { KeyFile } from "./_keys.js";
import { foldRecordOf } from "./_log-format.js";
import type { SessionLocks } from "./_session-locks.js";
import { readTail, writeRecord, type Tails } from "./_tails.js";
import type { IndexWatcher } from "./_watch.js";

/** The parts of the file store a fold's record is written with. */
export interface FoldParts {
  log: SessionLog;
  docs: DocumentFiles;
  tails: Tails;
  locks: SessionLocks;
  keys: KeyFile;
  watcher: IndexWatcher;
}

/**
 * A fold's commit (see Commit.folds) as one log record, durable in the same
 * group flush as appends: the header after the fold and the folded messages,
 * nothing of the history it keeps. The checkpoint later moves the folded
 * messages to the pruned-history log and writes the document once, however
 * many folds and appends it absorbs. Undefined, with nothing written, when
 * the stored session is not the one the fold was built on (its message
 * count or last message differ): the caller then commits the whole document.
 */
export async function commitFold(parts: FoldParts, change: Commit, expectedRevision: number, foldedIn: readonly Message[]): Promise<Session | undefined> {
  const { session } = change;
  const id = session.id;
  const revision = expectedRevision + 1;
  // Only what changed is validated: the header, and the folded messages on their way to the pruned-history log (the kept ones were when they were stored).
  const doc = await prepareDocument({ ...session, messages: [] }, revision);
  const { messages: _none, ...head } = doc;
  const folded = prepareMessages(id, foldedIn);
  return parts.locks.within(id, change.held, async () => {
    const stored = await parts.log.stored(id);
    if (stored?.revision !== expectedRevision) throw conflictError(id, stored?.revision ?? null, expectedRevision);
    const tail = parts.tails.get(id, stored) ?? (await readTail(parts.log, parts.docs, id, stored));
    const last = session.messages.at(-1)?.id ?? null;
    if (last !== tail.last || tail.summary.messageCount !== session.messages.length + folded.length) return undefined;
    await parts.keys.beforeWrite();
    const record = foldRecordOf(tail, revision, head, folded, session.messages.length, stored);
    await writeRecord(parts, record, tail.last);
    // The document as a read will build it: the header as validated, the kept messages as stored.
    return { ...doc, messages: session.messages };
  });
}
