import { closeSync, constants, fstatSync, ftruncateSync, openSync, readSync } from "node:fs";
import { rm } from "node:fs/promises";
import { basename } from "node:path";
import { storageError } from "../../errors.js";
import type { Message } from "../../session/types.js";
import { checkStoredMessage } from "../../session/stored-check.js";
import type { StoreWarning } from "../store.js";
import { looksSealed, PLAIN_CODEC, type ContentCodec } from "../_crypto.js";
import { appendLines, errnoOf, readNoFollow, writeAtomic } from "./_fs.js";

function toLines(messages: readonly Message[], codec: ContentCodec): string {
  return messages.map((m) => `${JSON.stringify(codec.sealMessage(m))}\n`).join("");
}

/**
 * Appends messages to a pruned-history log and flushes them (they exist
 * nowhere else once the document drops them). Callers hold the session's
 * lock, so an unterminated last line that is not a message is what an
 * interrupted append left (a process killed mid-write): its messages are
 * still in the document, which is written after the log, and it is cut off
 * first.
 */
export async function appendPrunedLog(path: string, messages: readonly Message[], codec: ContentCodec = PLAIN_CODEC): Promise<void> {
  if (messages.length === 0) return;
  await cutTornTail(path);
  await appendLines(path, toLines(messages, codec), true);
}

/** True when `line` is one stored message, plain or sealed (doctor reads pruned logs with the same test, without the key). */
export function isMessage(line: string): boolean {
  try {
    const v: unknown = JSON.parse(line);
    return looksSealed(v) || checkStoredMessage(v).success;
  } catch {
    return false;
  }
}

/** Removes an interrupted append's unterminated, unparsable last line (a valid one, from a hand edit, is kept). */
async function cutTornTail(path: string): Promise<void> {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDWR | (constants.O_NOFOLLOW ?? 0));
  } catch (err) {
    if (errnoOf(err) === "ENOENT") return;
    throw storageError("open", path, err);
  }
  try {
    const size = fstatSync(fd).size;
    const byte = Buffer.alloc(1);
    if (size === 0 || (readSync(fd, byte, 0, 1, size - 1) === 1 && byte[0] === 0x0a)) return;
    // Back to the last newline, a chunk at a time.
    let start = size;
    let lineStart = 0;
    const chunk = Buffer.alloc(64 * 1024);
    while (start > 0) {
      const from = Math.max(0, start - chunk.length);
      const n = readSync(fd, chunk, 0, start - from, from);
      const at = chunk.subarray(0, n).lastIndexOf(0x0a);
      if (at !== -1) {
        lineStart = from + at + 1;
        break;
      }
      start = from;
    }
    const tail = Buffer.alloc(size - lineStart);
    readSync(fd, tail, 0, tail.length, lineStart);
    if (isMessage(tail.toString("utf8"))) return;
    ftruncateSync(fd, lineStart);
  } catch (err) {
    throw storageError("repair", path, err);
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads a pruned-history log, oldest first. A line that is not a valid
 * message (a crash can tear the last append) is skipped with a warning
 * rather than making the whole history unreadable.
 */
export async function readPrunedLog(path: string, warn: StoreWarning, codec: ContentCodec = PLAIN_CODEC): Promise<Message[]> {
  let file;
  try {
    file = await readNoFollow(path);
  } catch (err) {
    throw storageError("read", path, err);
  }
  if (file === undefined || !file.isFile) return [];
  const out: Message[] = [];
  // A crash between logging a fold and saving the document that drops its
  // messages makes the next fold log them again: the first copy wins.
  const seen = new Set<string>();
  const lines = file.data.toString("utf8").split("\n");
  // Text after the last newline is an append in progress in another process, or one a crash interrupted (the next append cuts it off).
  const unterminated = lines.length - 1;
  lines.forEach((line, i) => {
    if (line.trim() === "") return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      value = undefined;
    }
    // A sealed line the key cannot open throws: skipping it would lose history silently.
    value = codec.openMessage(value, `sessions/${basename(path)}`);
    const parsed = checkStoredMessage(value);
    if (!parsed.success) {
      if (i !== unterminated) warn(`sessions/${basename(path)}: line ${i + 1} is not a valid message (interrupted write?); skipped`);
    } else if (!seen.has(parsed.data.id)) {
      seen.add(parsed.data.id);
      out.push(parsed.data);
    }
  });
  return out;
}

/** Replaces a pruned-history log atomically; an empty one is removed. */
export async function replacePrunedLog(path: string, stem: string, messages: readonly Message[], codec: ContentCodec = PLAIN_CODEC): Promise<void> {
  if (messages.length === 0) {
    try {
      await rm(path, { force: true });
    } catch (err) {
      throw storageError("delete", path, err);
    }
    return;
  }
  await writeAtomic(path, toLines(messages, codec), stem);
}
