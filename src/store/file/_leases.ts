import { closeSync, constants, fchmodSync, ftruncateSync, openSync, readSync } from "node:fs";
import { join } from "node:path";
import { storageError } from "../../errors.js";
import { assertValidId } from "../../session/ids.js";
import { RecordLeases, type LeaseRecord, type LeaseWakeups } from "../lease.js";
import { closeQuietly, errnoOf, FILE_MODE, writeAll } from "./_fs.js";
import type { Layout } from "./_paths.js";

const NOFOLLOW = constants.O_NOFOLLOW ?? 0;
const MAX_BYTES = 4096;
/**
 * A record is written padded with spaces to this many bytes (a released
 * lease is spaces only), so rewriting it never changes the file's size:
 * no metadata change for the next flush of the file system's journal.
 */
const SLOT_BYTES = 256;
/** Lease files kept open at most, per store instance (each holds a descriptor); past it the least recently used is closed. */
const MAX_OPEN = 256;

/** The turn-lease file of a session: `sessions/<id>.turn`, a small JSON record. */
export function turnPath(layout: Layout, id: string): string {
  return join(layout.sessions, `${assertValidId(id)}.turn`);
}

/** A lease file kept open between updates, with what it holds. */
interface OpenFile {
  fd: number;
  /** The generation of the session's lock (see FileLocks.generation) under which `record` was read or written. */
  generation: number;
  record: LeaseRecord | undefined;
  /** Bytes in the file. */
  size: number;
  /** Created by this instance and not written yet: its mode is set at the first write. */
  created: boolean;
}

/**
 * Turn leases as one small file per session, read and rewritten only under
 * the session's cross-process lock (held for microseconds, never for the
 * turn), so every process on the state directory sees one holder. The file
 * is rewritten in place, at the same size, and kept after release: creating
 * and removing it, or changing its size or mode, would be metadata changes
 * that every later fdatasync pays for. Nothing is flushed: after a crash
 * every holder is gone and any lease in the file runs out by its expiry.
 *
 * While this instance keeps the session's lock file (the lock's generation
 * is unchanged), no other process can have read or written the lease file
 * since this instance last did: the file stays open and its record is
 * taken from memory, so an update costs one write instead of an open, a
 * read, a write and a close. Every update is still written at once.
 */
export class LeaseFiles {
  /** Open files by session id, least recently used first. */
  private readonly open = new Map<string, OpenFile>();
  readonly leases: RecordLeases;

  constructor(
    private readonly layout: Layout,
    withLock: <T>(id: string, fn: () => Promise<T>) => Promise<T>,
    /** The generation of the session's lock while an operation holds it (FileLocks.generation). */
    private readonly generation: (id: string) => number | undefined,
    wakeups: LeaseWakeups,
  ) {
    this.leases = new RecordLeases(
      (id, fn) => withLock(id, async () => this.update(id, fn)),
      wakeups,
      (id) => void assertValidId(id),
    );
  }

  /** Closes a session's file, when open: call under its lock before the file is removed. */
  forget(id: string): void {
    const f = this.open.get(id);
    if (f === undefined) return;
    this.open.delete(id);
    closeQuietly(f.fd);
  }

  /** Closes every open file (the store is closing). */
  close(): void {
    for (const f of this.open.values()) closeQuietly(f.fd);
    this.open.clear();
  }

  /** Applies `fn` to the session's record and writes what it returns; under the session's lock. */
  private update<T>(id: string, fn: (current: LeaseRecord | undefined, now: number) => { next?: LeaseRecord | null; result: T }): T {
    const path = turnPath(this.layout, id);
    const generation = this.generation(id);
    let f = this.open.get(id);
    if (f !== undefined) {
      this.open.delete(id);
      // Another lock file since: another process may have written the file meanwhile (or removed it).
      if (f.generation !== generation) {
        closeQuietly(f.fd);
        f = undefined;
      }
    }
    f ??= this.read(path, generation ?? 0);
    try {
      const { next, result } = fn(f.record, Date.now());
      if (next !== undefined) {
        // The umask must not narrow a new file's mode.
        if (f.created) fchmodSync(f.fd, FILE_MODE);
        f.created = false;
        const json = next === null ? "" : JSON.stringify(next);
        const data = Buffer.alloc(Math.max(SLOT_BYTES, Buffer.byteLength(json, "utf8")), 0x20);
        data.write(json, 0, "utf8");
        // Forgotten first: a failed write leaves nothing trusted in memory.
        f.record = undefined;
        writeAll(f.fd, data, 0);
        // Only a longer record left by an earlier version (or a hand edit) is cut.
        if (f.size > data.length) ftruncateSync(f.fd, data.length);
        f.size = data.length;
        f.record = next === null ? undefined : { ...next };
      }
      if (generation === undefined) closeSync(f.fd);
      else this.keep(id, f);
      return result;
    } catch (err) {
      closeQuietly(f.fd);
      throw storageError("write turn lease", path, err);
    }
  }

  /** Opens (creating when absent) and reads a session's file. */
  private read(path: string, generation: number): OpenFile {
    let fd: number;
    let created = false;
    try {
      fd = openSync(path, constants.O_RDWR | NOFOLLOW);
    } catch (err) {
      if (errnoOf(err) !== "ENOENT") throw storageError("open turn lease", path, err);
      try {
        fd = openSync(path, constants.O_RDWR | constants.O_CREAT | NOFOLLOW, FILE_MODE);
        created = true;
      } catch (err2) {
        throw storageError("open turn lease", path, err2);
      }
    }
    try {
      const buf = Buffer.alloc(MAX_BYTES);
      const n = readSync(fd, buf, 0, MAX_BYTES, 0);
      return { fd, generation, record: n === 0 ? undefined : parseRecord(buf.subarray(0, n).toString("utf8")), size: n, created };
    } catch (err) {
      closeQuietly(fd);
      throw storageError("read turn lease", path, err);
    }
  }

  private keep(id: string, f: OpenFile): void {
    this.open.set(id, f);
    if (this.open.size <= MAX_OPEN) return;
    const [oldest, lru] = this.open.entries().next().value as [string, OpenFile];
    this.open.delete(oldest);
    closeQuietly(lru.fd);
  }
}
/** A record from the file; undefined (a free lease) for anything else, e.g. what a writer killed mid-write left. */
function parseRecord(raw: string): LeaseRecord | undefined {
  // A released lease is spaces only: not handed to JSON.parse, whose exception costs more than the whole read.
  if (raw.trim() === "") return undefined;
  try {
    const v = JSON.parse(raw) as Record<string, unknown>;
    if (typeof v.holder !== "string" || typeof v.token !== "string" || typeof v.expiresAt !== "number") return undefined;
    const want = typeof v.wantedBy === "string" && typeof v.wantedUntil === "number" ? { wantedBy: v.wantedBy, wantedUntil: v.wantedUntil } : {};
    return { holder: v.holder, token: v.token, expiresAt: v.expiresAt, ...want };
  } catch {
    return undefined;
  }
}
