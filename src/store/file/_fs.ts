import { randomBytes } from "node:crypto";
import { closeSync, constants, fchmodSync, fstatSync, fsync, openSync, readSync, renameSync, rmSync, writeSync } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import { chmod, mkdir, open, rm } from "node:fs/promises";
import { promisify } from "node:util";
import { basename, dirname, join } from "node:path";
import { storageError } from "../../errors.js";
import { abortedError } from "../_mutex.js";

/** Mode of every file the store creates. */
export const FILE_MODE = 0o600;
/** Mode of every directory the store creates. */
export const DIR_MODE = 0o700;

const NOFOLLOW = constants.O_NOFOLLOW ?? 0;
// A FIFO planted under a document's name would block a plain open forever; non-blocking open returns and fstat rejects it.
const READ_FLAGS = constants.O_RDONLY | NOFOLLOW | (constants.O_NONBLOCK ?? 0);

/** The errno code of a Node fs error, if it has one. */
export function errnoOf(err: unknown): string | undefined {
  return err instanceof Error ? (err as NodeJS.ErrnoException).code : undefined;
}

/** Swallows ENOENT (returns undefined); rethrows anything else. */
export function ignoreMissing(err: unknown): undefined {
  if (errnoOf(err) === "ENOENT") return undefined;
  throw err;
}

/**
 * Creates a directory 0700 when missing. The mode is set again after mkdir
 * because a umask can narrow it (e.g. drop our own write bit). With
 * `tighten`, an existing directory is brought to 0700 too.
 */
export async function ensureDir(path: string, tighten: boolean, recursive = false): Promise<void> {
  let created = false;
  try {
    if (recursive) created = (await mkdir(path, { mode: DIR_MODE, recursive: true })) !== undefined;
    else {
      await mkdir(path, { mode: DIR_MODE });
      created = true;
    }
  } catch (err) {
    if (errnoOf(err) !== "EEXIST") throw storageError("create directory", path, err);
  }
  if (!created && !tighten) return;
  try {
    await chmod(path, DIR_MODE);
  } catch (err) {
    // Not our directory, or a read-only mount (still readable): leave its mode rather than fail.
    const code = errnoOf(err);
    if (code !== "EPERM" && code !== "EROFS") throw storageError("set permissions on", path, err);
  }
}

// On write paths, metadata calls (open, write, rename, close) take
// microseconds, so they run synchronously: a round trip through the thread
// pool costs more than the call itself, and an append makes dozens of them.
// fsync, which waits for the disk, stays asynchronous so concurrent sessions
// can flush in parallel. Reads of whole files that may be large (the index, a
// pruned-history log) are asynchronous instead: a read served from a cold or
// network disk must not stall every other session's event loop for long. A
// session's header and message file are read synchronously up to
// SYNC_READ_MAX_BYTES (readDocumentFile), asynchronously beyond.
const fsyncAsync = promisify(fsync);

/** Removes each file (a missing one is fine), then flushes `dir` so the removals are durable. */
export async function removeFiles(paths: readonly string[], dir: string): Promise<void> {
  for (const path of paths) {
    try {
      await rm(path, { force: true });
    } catch (err) {
      throw storageError("delete", path, err);
    }
  }
  await fsyncDir(dir);
}

/** Flushes a directory's entries (renames, unlinks) to disk; a no-op where the platform refuses. */
export async function fsyncDir(dir: string): Promise<void> {
  let fd: number | undefined;
  try {
    fd = openSync(dir, constants.O_RDONLY);
    await fsyncAsync(fd);
  } catch (err) {
    const code = errnoOf(err);
    if (code === "EIO" || code === "ENOSPC") throw storageError("flush directory", dir, err);
  } finally {
    if (fd !== undefined) closeQuietly(fd);
  }
}

/** A unique temp-file name beside its target: `.<stem>.<pid>.<random>.tmp`. */
export function tempPath(dir: string, stem: string): string {
  return join(dir, `.${stem}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
}

/**
 * Replaces `target` atomically: write a temp file in the same directory,
 * fsync, rename over the target, fsync the directory (unless `syncDir` is
 * false: the caller then flushes the directory before anything relies on the
 * rename surviving a power loss). On failure the target is untouched and the
 * temp file removed.
 */
export async function writeAtomic(target: string, data: string, stem: string = basename(target), syncDir = true): Promise<void> {
  const dir = dirname(target);
  const tmp = tempPath(dir, stem);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | NOFOLLOW, FILE_MODE);
    fchmodSync(fd, FILE_MODE);
    writeAll(fd, Buffer.from(data, "utf8"));
    await fsyncAsync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, target);
  } catch (err) {
    if (fd !== undefined) closeQuietly(fd);
    try {
      rmSync(tmp, { force: true });
    } catch {
      // The temp file is a leftover that maintain() removes.
    }
    throw storageError("write", target, err);
  }
  if (syncDir) await fsyncDir(dir);
}

/** A file's bytes (from `offset` on) with the identity they were read under. */
export interface FileRead {
  data: Buffer;
  ino: number;
  /** Size of the whole file when read. */
  size: number;
  mtimeMs: number;
  isFile: boolean;
}

/** Reads a file (from `offset` to its end) without following a symlink; undefined when absent. */
export async function readNoFollow(path: string, offset = 0): Promise<FileRead | undefined> {
  const fh = await openForRead(path);
  if (fh === undefined) return undefined;
  try {
    const st = await fh.stat();
    if (!st.isFile()) return { data: Buffer.alloc(0), ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, isFile: false };
    const data = await readFrom(fh, offset, Math.max(0, st.size - offset));
    return { data, ino: st.ino, size: offset + data.length, mtimeMs: st.mtimeMs, isFile: true };
  } finally {
    await fh.close().catch(() => undefined);
  }
}

/**
 * Reads a small file (a lock file: a few hundred bytes) synchronously, without
 * following a symlink; undefined when absent. Locks are read on every
 * release, and three thread-pool round trips there would each wait behind
 * every fsync in flight. At most `maxBytes` are read.
 */
export function readSmallSync(path: string, maxBytes = 4096): FileRead | undefined {
  return readBoundedSync(path, maxBytes, "truncate") ?? undefined;
}

/**
 * A session file (header or message file) up to this size is read
 * synchronously: four thread-pool round trips (open, stat, read, close)
 * cost more CPU than the read, and a process holding thousands of sessions
 * read that way kept ~20 MiB more resident memory (allocator arenas of the
 * pool's threads). A bigger file is read through the pool.
 */
export const SYNC_READ_MAX_BYTES = 256 * 1024;

/** readNoFollow for a session's own files: synchronously when the file is at most SYNC_READ_MAX_BYTES. */
export async function readDocumentFile(path: string): Promise<FileRead | undefined> {
  const file = readBoundedSync(path, SYNC_READ_MAX_BYTES, "decline");
  if (file === null) return readNoFollow(path);
  return file === undefined || !file.isFile ? file : { ...file, size: file.data.length };
}

/**
 * The synchronous read behind readSmallSync and readDocumentFile: at most
 * `maxBytes`, the rest left unread ("truncate") or nothing read and null
 * returned ("decline") when the file is longer; undefined when absent.
 */
function readBoundedSync(path: string, maxBytes: number, longer: "truncate" | "decline"): FileRead | undefined | null {
  let fd: number;
  try {
    fd = openSync(path, READ_FLAGS);
  } catch (err) {
    return ignoreMissing(err);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return { data: Buffer.alloc(0), ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, isFile: false };
    if (st.size > maxBytes && longer === "decline") return null;
    const buf = Buffer.allocUnsafe(Math.min(st.size, maxBytes));
    let done = 0;
    while (done < buf.length) {
      const n = readSync(fd, buf, done, buf.length - done, done);
      if (n === 0) break;
      done += n;
    }
    return { data: buf.subarray(0, done), ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, isFile: true };
  } finally {
    closeQuietly(fd);
  }
}

/**
 * Reads a whole file synchronously without following a symlink, as
 * readNoFollow does; for walks over every header (an index rebuild), where
 * four thread-pool round trips a file cost several times the read itself.
 */
export function readNoFollowSync(path: string): FileRead | undefined {
  const file = readSmallSync(path, Number.POSITIVE_INFINITY);
  return file === undefined || !file.isFile ? file : { ...file, size: file.data.length };
}

/** Lets timers and I/O callbacks run: a long synchronous walk calls it between batches. */
export function yieldToLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Reads up to `bytes` (a few KiB) from the start of a file, with the file's
 * size; undefined when absent. Synchronous like the other bounded metadata calls: it takes
 * microseconds, while three thread-pool round trips would each wait behind
 * every fsync in flight, on the path of every save.
 */
export function readHead(path: string, bytes: number): { text: string; size: number } | undefined {
  let fd: number;
  try {
    fd = openSync(path, READ_FLAGS);
  } catch (err) {
    return ignoreMissing(err);
  }
  try {
    const buf = Buffer.allocUnsafe(bytes);
    const n = readSync(fd, buf, 0, bytes, 0);
    // The size of the file, not of the head: a short read means the whole file was read.
    const size = n < bytes ? n : fstatSync(fd).size;
    return { text: buf.subarray(0, n).toString("utf8"), size };
  } finally {
    closeQuietly(fd);
  }
}

async function openForRead(path: string): Promise<FileHandle | undefined> {
  try {
    return await open(path, READ_FLAGS);
  } catch (err) {
    return ignoreMissing(err);
  }
}

/**
 * Appends newline-terminated `text` to a JSONL file (created 0600). If a
 * crash left the file without a final newline, a newline goes first so the
 * torn line cannot swallow the new one. Returns the file's new size.
 */
export async function appendLines(path: string, text: string, sync: boolean): Promise<number> {
  let fd: number | undefined;
  try {
    fd = openSync(path, constants.O_RDWR | constants.O_APPEND | constants.O_CREAT | NOFOLLOW, FILE_MODE);
    const st = fstatSync(fd);
    let prefix = "";
    if (st.size === 0) {
      fchmodSync(fd, FILE_MODE);
    } else {
      const last = Buffer.alloc(1);
      readSync(fd, last, 0, 1, st.size - 1);
      if (last[0] !== 0x0a) prefix = "\n";
    }
    const data = Buffer.from(prefix + text, "utf8");
    writeAll(fd, data);
    if (sync) await fsyncAsync(fd);
    return st.size + data.length;
  } catch (err) {
    throw storageError("append to", path, err);
  } finally {
    if (fd !== undefined) closeQuietly(fd);
  }
}

/** Writes the whole buffer, looping over short writes. */
export function writeAll(fd: number, data: Buffer, position?: number): void {
  let done = 0;
  while (done < data.length) done += writeSync(fd, data, done, data.length - done, position === undefined ? null : position + done);
}

async function readFrom(fh: FileHandle, offset: number, length: number): Promise<Buffer> {
  // Unzeroed: only the bytes read are returned, and the index can be tens of MB.
  const data = Buffer.allocUnsafe(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await fh.read(data, done, length - done, offset + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return data.subarray(0, done);
}

/** Closes a descriptor, ignoring errors (used on paths that already failed or finished). */
export function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // Nothing useful to do: the descriptor is gone either way.
  }
}

/** Pauses for `ms` milliseconds; rejects with ABORTED (and stops waiting) as soon as `signal` fires. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal === undefined) return new Promise((resolve) => setTimeout(resolve, ms));
  if (signal.aborted) return Promise.reject(abortedError(signal));
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortedError(signal));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
