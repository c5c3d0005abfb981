import { lstatSync } from "node:fs";
import { lstat, readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { storageError } from "../../errors.js";
import type { MaintenanceReport } from "../store.js";
import { errnoOf, ignoreMissing, readHead, yieldToLoop } from "./_fs.js";
import type { SessionIndex } from "./_index.js";
import type { FileLocks } from "./_lock.js";
import type { Layout } from "./_paths.js";
import { breakerNameOf, isTempFile, lockNameOf, messageFileOf, wantNameOf } from "./_paths.js";
import { pointerInHead } from "./_message-file.js";

/** Files stat'ed between two yields to the event loop by bytesUnder. */
const STAT_BATCH = 256;

/** A temp file younger than this may belong to a write in progress in another process. */
const TEMP_MAX_AGE_MS = 60_000;

/**
 * Removes what interrupted writers left (old temp files, waiters'
 * markers and message files no header names, stale locks and breakers), then rebuilds the index from the documents. With `dryRun`,
 * counts and names what it would do and changes nothing.
 */
export async function maintainFiles(layout: Layout, locks: FileLocks, index: SessionIndex, dryRun: boolean): Promise<MaintenanceReport> {
  let entries;
  try {
    entries = await readdir(layout.sessions, { withFileTypes: true });
  } catch (err) {
    throw storageError("list", layout.sessions, err);
  }
  const names = new Set(entries.map((e) => e.name));
  let removed = 0;
  const removeOld = async (name: string): Promise<void> => {
    const path = join(layout.sessions, name);
    const st = await lstat(path).catch(ignoreMissing);
    if (st === undefined || Date.now() - st.mtimeMs <= TEMP_MAX_AGE_MS) return;
    if (!dryRun) await rm(path, { force: true });
    removed++;
  };
  // Message files whose header is there: the rebuild reads those headers anyway, so they are judged after it.
  const headed: { name: string; id: string; gen: number }[] = [];
  for (const entry of entries) {
    const name = entry.name;
    const messages = entry.isFile() ? messageFileOf(name) : undefined;
    if (messages !== undefined && names.has(`${messages.id}.json`)) {
      headed.push({ name, ...messages });
      continue;
    }
    // A waiter's marker is refreshed while it waits; one this old was left by a waiter that died. A
    // turn-lease file outlives nothing: one whose session is gone was left by a delete that crashed midway.
    const orphanTurn = name.endsWith(".turn") && !names.has(`${name.slice(0, -".turn".length)}.json`);
    if (entry.isFile() && (isTempFile(name) || wantNameOf(name) !== undefined || orphanTurn || messages !== undefined)) {
      await removeOld(name);
      continue;
    }
    const lockName = entry.isFile() ? lockNameOf(name) : undefined;
    if (lockName !== undefined) {
      const state = await locks.inspect(lockName);
      if (state === undefined || !locks.isStale(state)) continue;
      if (dryRun || (await locks.breakStale(lockName, state))) removed++;
      continue;
    }
    const breakerName = entry.isDirectory() ? breakerNameOf(name) : undefined;
    if (breakerName !== undefined && (await locks.removeStaleBreaker(breakerName, dryRun))) removed++;
  }
  if (dryRun) {
    for (const f of headed) if (namedElsewhere(layout, f.id, f.gen)) await removeOld(f.name);
    return { leftoversRemoved: removed, indexRebuilt: false, quarantined: await index.corruptDocuments() };
  }
  const { quarantined, generations } = await index.rebuild();
  for (const f of headed) {
    // A header the rebuild did not read (quarantined, or written since) is asked itself.
    const named = generations.get(f.id);
    if (generations.has(f.id) ? named !== undefined && named !== f.gen : namedElsewhere(layout, f.id, f.gen)) await removeOld(f.name);
  }
  return { leftoversRemoved: removed, indexRebuilt: true, quarantined };
}

/**
 * True when the header of `id` is gone or names another generation than
 * `gen`: a rewrite replaced that message file (or was cut short before its
 * header). One whose header cannot be read, or holds its messages inline, is
 * kept: it goes with that header to quarantine.
 */
function namedElsewhere(layout: Layout, id: string, gen: number): boolean {
  let head;
  try {
    head = readHead(layout.doc(id), 4096);
  } catch {
    return false;
  }
  if (head === undefined) return true;
  const named = pointerInHead(head.text);
  return named !== undefined && named.gen !== gen;
}

/** Total bytes of the regular files under `dir` but lock files, symlinks not followed. */
export async function bytesUnder(dir: string): Promise<number> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if (errnoOf(err) === "ENOENT") return 0;
    throw storageError("list", dir, err);
  }
  let total = 0;
  let statted = 0;
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += await bytesUnder(path);
    // Lock files, waiters' markers and turn leases come and go with every burst of writes and turns; they are not stored data.
    else if (entry.isFile() && lockNameOf(entry.name) === undefined && wantNameOf(entry.name) === undefined && !entry.name.endsWith(".turn")) {
      // A stat takes microseconds, a thread-pool round trip several times that: synchronous, in batches.
      total += sizeOf(path);
      if (++statted % STAT_BATCH === 0) await yieldToLoop();
    }
  }
  return total;
}

/** Size of a regular file; 0 when it has gone. */
function sizeOf(path: string): number {
  try {
    return lstatSync(path).size;
  } catch (err) {
    return ignoreMissing(err) ?? 0;
  }
}
