import { isOpenclawError, OpenclawError } from "../errors.js";
import { canEncrypt, canLock, type HeldLock, type SessionStore } from "./store.js";

/** What {@link rekeySessions} did. */
export interface RekeyReport {
  /** Sessions rewritten under the new key. */
  sessions: number;
  /** Pruned-history messages rewritten with them. */
  prunedMessages: number;
  /** The key ids the store recorded before, and records now. */
  before: string[];
  after: string[];
}

/**
 * Rewrites every session (document, pending appends, pruned history) with
 * the store's write key, `store` having been opened with a keyring holding
 * the old key and the new one as write key (`rekeying: true`). Crash-safe:
 * the store records both key ids before the first rewrite and the new one
 * alone after the last, and every value names its key, so at every moment
 * each value opens with one of the two; a rekey that stopped is run again
 * with both keys. Other writers should be stopped meanwhile: one still
 * holding only the old key would keep sealing with it.
 */
export async function rekeySessions(store: SessionStore, writeKeyId: string, onProgress?: (done: number, total: number) => void): Promise<RekeyReport> {
  if (!canEncrypt(store)) throw new OpenclawError("INVALID_ARGUMENT", `the ${store.kind} store keeps nothing at rest: there is nothing to rekey`);
  const before = (await store.keyIds()) ?? [];
  await store.recordKeyIds([...before.filter((id) => id !== writeKeyId), writeKeyId]);
  const ids = (await store.list()).items.map((s) => s.id);
  let prunedMessages = 0;
  let done = 0;
  for (const id of ids) {
    prunedMessages += await rewrite(store, id);
    onProgress?.(++done, ids.length);
  }
  // The file store's pending appends were sealed with the old key: written into their documents, their log segments go.
  await store.maintain();
  await store.recordKeyIds([writeKeyId]);
  return { sessions: ids.length, prunedMessages, before, after: [writeKeyId] };
}

/** Rewrites one session as it stands (a new revision, same content); retried when another writer got in between. */
async function rewrite(store: SessionStore, id: string): Promise<number> {
  const once = async (held?: HeldLock): Promise<number> => {
    const loaded = await store.get(id);
    if (loaded === undefined) return 0;
    const pruned = await store.readPruned(id);
    await store.commit({ session: loaded.session, expectedRevision: loaded.session.revision, pruned: { replace: pruned }, reason: "edited", ...(held !== undefined ? { held } : {}) });
    return pruned.length;
  };
  for (let attempt = 1; ; attempt++) {
    try {
      return canLock(store) ? await store.withLock(id, once) : await once();
    } catch (err) {
      if (!isOpenclawError(err, "CONFLICT") || attempt >= 10) throw err;
    }
  }
}
