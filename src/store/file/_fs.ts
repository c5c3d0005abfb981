import { randomBytes } from "node:crypto";
import { constants } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import { chmod, mkdir, open, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { storageError } from "../../errors.js";

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
    // Not our directory: leave its mode to its owner rather than fail.
    if (errnoOf(err) !== "EPERM") throw storageError("set permissions on", path, err);
  }
}

/** Flushes a directory's entries (renames, unlinks) to disk; a no-op where the platform refuses. */
export async function fsyncDir(dir: string): Promise<void> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(dir, constants.O_RDONLY);
    await fh.sync();
  } catch (err) {
    const code = errnoOf(err);
    if (code === "EIO" || code === "ENOSPC") throw storageError("flush directory", dir, err);
  } finally {
    await fh?.close().catch(() => undefined);
  }
}

/** A unique temp-file name beside its target: `.<stem>.<pid>.<random>.tmp`. */
export function tempPath(dir: string, stem: string): string {
  return join(dir, `.${stem}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
}

/**
 * Replaces `target` atomically: write a temp file in the same directory,
 * fsync, rename over the target, fsync the directory. On failure the target
 * is untouched and the temp file removed.
 */
export async function writeAtomic(target: string, data: string, stem: string = basename(target)): Promise<void> {
  const dir = dirname(target);
  const tmp = tempPath(dir, stem);
  let fh: FileHandle | undefined;
  try {
    fh = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | NOFOLLOW, FILE_MODE);
    await fh.chmod(FILE_MODE);
    await fh.writeFile(data, "utf8");
    await fh.sync();
    await fh.close();
    fh = undefined;
    await rename(tmp, target);
  } catch (err) {
    await fh?.close().catch(() => undefined);
    await rm(tmp, { force: true }).catch(() => undefined);
    throw storageError("write", target, err);
  }
  await fsyncDir(dir);
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
  let fh: FileHandle;
  try {
    fh = await open(path, READ_FLAGS);
  } catch (err) {
    return ignoreMissing(err);
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) return { data: Buffer.alloc(0), ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, isFile: false };
    if (offset === 0) {
      const data = await fh.readFile();
      return { data, ino: st.ino, size: data.length, mtimeMs: st.mtimeMs, isFile: true };
    }
    const data = Buffer.alloc(Math.max(0, st.size - offset));
    let done = 0;
    while (done < data.length) {
      const { bytesRead } = await fh.read(data, done, data.length - done, offset + done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return { data: data.subarray(0, done), ino: st.ino, size: offset + done, mtimeMs: st.mtimeMs, isFile: true };
  } finally {
    await fh.close().catch(() => undefined);
  }
}

/** Reads up to `bytes` from the start of a file; undefined when absent. */
export async function readHead(path: string, bytes: number): Promise<string | undefined> {
  let fh: FileHandle;
  try {
    fh = await open(path, READ_FLAGS);
  } catch (err) {
    return ignoreMissing(err);
  }
  try {
    const buf = Buffer.alloc(bytes);
    const { bytesRead } = await fh.read(buf, 0, bytes, 0);
    return buf.subarray(0, bytesRead).toString("utf8");
  } finally {
    await fh.close().catch(() => undefined);
  }
}

/**
 * Appends newline-terminated `text` to a JSONL file (created 0600). If a
 * crash left the file without a final newline, a newline goes first so the
 * torn line cannot swallow the new one. Returns the file's new size.
 */
export async function appendLines(path: string, text: string, sync: boolean): Promise<number> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(path, constants.O_RDWR | constants.O_APPEND | constants.O_CREAT | NOFOLLOW, FILE_MODE);
    const st = await fh.stat();
    let prefix = "";
    if (st.size === 0) {
      await fh.chmod(FILE_MODE);
    } else {
      const last = Buffer.alloc(1);
      await fh.read(last, 0, 1, st.size - 1);
      if (last[0] !== 0x0a) prefix = "\n";
    }
    const data = Buffer.from(prefix + text, "utf8");
    await fh.write(data);
    if (sync) await fh.sync();
    return st.size + data.length;
  } catch (err) {
    throw storageError("append to", path, err);
  } finally {
    await fh?.close().catch(() => undefined);
  }
}

/** Pauses for `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
