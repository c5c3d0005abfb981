import { closeSync, constants, fchmodSync, ftruncateSync, openSync, readSync } from "node:fs";
import { join } from "node:path";
import { storageError } from "../../errors.js";
import { assertValidId } from "../../session/ids.js";
import { RecordLeases, type LeaseRecord, type LeaseWakeups } from "../lease.js";
import { errnoOf, FILE_MODE, writeAll } from "./_fs.js";
import type { Layout } from "./_paths.js";

const NOFOLLOW = constants.O_NOFOLLOW ?? 0;
const MAX_BYTES = 4096;
/**
 * A record is written padded with spaces to this many bytes (a released
 * lease is spaces only), so rewriting it never changes the file's size:
 * no metadata change for the next flush of the file system's journal.
 */
const SLOT_BYTES = 256;

/** The turn-lease file of a session: `sessions/<id>.turn`, a small JSON record. */
export function turnPath(layout: Layout, id: string): string {
  return join(layout.sessions, `${assertValidId(id)}.turn`);
}

/**
 * Turn leases as one small file per session, read and rewritten only under
 * the session's cross-process lock (held for microseconds, never for the
 * turn), so every process on the state directory sees one holder. The file
 * is rewritten in place, at the same size, and kept after release: creating
 * and removing it, or changing its size or mode, would be metadata changes
 * that every later fdatasync pays for. Nothing
 * is flushed: after a crash every holder is gone and any lease in the file
 * runs out by its expiry.
 */
export function fileLeases(layout: Layout, withLock: <T>(id: string, fn: () => Promise<T>) => Promise<T>, wakeups: LeaseWakeups): RecordLeases {
  return new RecordLeases(
    (id, fn) =>
      withLock(id, async () => {
        const path = turnPath(layout, id);
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
          const { next, result } = fn(n === 0 ? undefined : parseRecord(buf.subarray(0, n).toString("utf8")), Date.now());
          if (next !== undefined) {
            // The umask must not narrow a new file's mode.
            if (created) fchmodSync(fd, FILE_MODE);
            const json = next === null ? "" : JSON.stringify(next);
            const data = Buffer.alloc(Math.max(SLOT_BYTES, Buffer.byteLength(json, "utf8")), 0x20);
            data.write(json, 0, "utf8");
            writeAll(fd, data, 0);
            // Only a longer record left by an earlier version (or a hand edit) is cut.
            if (n > data.length) ftruncateSync(fd, data.length);
          }
          return result;
        } catch (err) {
          throw storageError("write turn lease", path, err);
        } finally {
          closeSync(fd);
        }
      }),
    wakeups,
    (id) => void assertValidId(id),
  );
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
