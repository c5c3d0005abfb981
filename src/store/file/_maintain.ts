import { lstat, readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { storageError } from "../../errors.js";
import type { MaintenanceReport } from "../store.js";
import { errnoOf, ignoreMissing, readHead } from "./_fs.js";
import type { SessionIndex } from "./_index.js";
import type { FileLocks } from "./_lock.js";
import type { Layout } from "./_paths.js";
import { breakerNameOf, isTempFile, lockNameOf, messageFileOf, wantNameOf } from "./_paths.js";
import { pointerInHead } from "./_message-file.js";

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
  for (const entry of entries) {
    const name = entry.name;
    // A waiter's marker is refreshed while it waits; one this old was left by a waiter that died. A
    // turn-lease file outlives nothing: one whose session is gone was left by a delete that crashed midway.
    const orphanTurn = name.endsWith(".turn") && !names.has(`${name.slice(0, -".turn".length)}.json`);
    if (entry.isFile() && (isTempFile(name) || wantNameOf(name) !== undefined || orphanTurn || orphanMessages(layout, name, names))) {
      const path = join(layout.sessions, name);
      const st = await lstat(path).catch(ignoreMissing);
      if (st === undefined || Date.now() - st.mtimeMs <= TEMP_MAX_AGE_MS) continue;
      if (!dryRun) await rm(path, { force: true });
      removed++;
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
  if (dryRun) return { leftoversRemoved: removed, indexRebuilt: false, quarantined: await index.corruptDocuments() };
  const quarantined = await index.rebuild();
  return { leftoversRemoved: removed, indexRebuilt: true, quarantined };
}

/**
 * True for a message file no header names: its session is gone, or a
 * rewrite replaced it (or was cut short before its header). One whose
 * header cannot be read is kept: it goes with that header to quarantine.
 */
function orphanMessages(layout: Layout, name: string, names: ReadonlySet<string>): boolean {
  const file = messageFileOf(name);
  if (file === undefined) return false;
  if (!names.has(`${file.id}.json`)) return true;
  let head;
  try {
    head = readHead(layout.doc(file.id), 4096);
  } catch {
    return false;
  }
  if (head === undefined) return true;
  const named = pointerInHead(head.text);
  return named !== undefined && named.gen !== file.gen;
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
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += await bytesUnder(path);
    // Lock files, waiters' markers and turn leases come and go with every burst of writes and turns; they are not stored data.
    else if (entry.isFile() && lockNameOf(entry.name) === undefined && wantNameOf(entry.name) === undefined && !entry.name.endsWith(".turn")) total += (await lstat(path).catch(ignoreMissing))?.size ?? 0;
  }
  return total;
}
