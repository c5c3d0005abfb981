import { closeSync, constants, fchmodSync, fdatasync, fstatSync, ftruncateSync, openSync } from "node:fs";
import { promisify } from "node:util";
import { storageError } from "../../errors.js";
import type { Message } from "../../session/types.js";
import type { ContentCodec } from "../_crypto.js";
import { closeQuietly, errnoOf, FILE_MODE, readDocumentFile, writeAll } from "./_fs.js";

// A session's active history lives in `<id>.<gen>.jsonl`, one stored message
// a line, under a small header document `<id>.json` that points to it: the
// generation, the committed byte length and message count, the tokens of
// those messages and the last message's id. Only the committed bytes count:
// a checkpoint appends lines past them and then replaces the header, so lines
// past the committed length are an interrupted checkpoint's, ignored and
// written over by the next one. A rewrite of the history writes the next
// generation in full before the header that names it.

/** The header's pointer to its message file. */
export interface MessageFile {
  /** Generation: the file is `<id>.<gen>.jsonl`; every rewrite of the history takes the next one. */
  gen: number;
  /** Committed length in bytes (0: the file may not exist). */
  bytes: number;
  /** Messages in the committed bytes. */
  count: number;
  /** Sum of their token counts, so the session's total needs no read of the file. */
  tokens: number;
  /** Id of the last committed message, null when there is none: what a log record must continue. */
  last: string | null;
}

const NOFOLLOW = constants.O_NOFOLLOW ?? 0;
const fdatasyncAsync = promisify(fdatasync);
const isCount = (n: unknown): n is number => typeof n === "number" && Number.isSafeInteger(n) && n >= 0;

/** The pointer in a parsed header, or undefined when it is malformed. */
export function parsePointer(v: unknown): MessageFile | undefined {
  if (typeof v !== "object" || v === null) return undefined;
  const o = v as Record<string, unknown>;
  if (!isCount(o.gen) || o.gen < 1 || !isCount(o.bytes) || !isCount(o.count) || !isCount(o.tokens)) return undefined;
  if (o.last !== null && typeof o.last !== "string") return undefined;
  if ((o.count === 0) !== (o.bytes === 0) || (o.count === 0) !== (o.last === null)) return undefined;
  return { gen: o.gen, bytes: o.bytes, count: o.count, tokens: o.tokens, last: o.last };
}

// The header is written with its pointer right after the revision, so the
// first bytes of a file tell its layout and the size of its history.
const POINTER_RE = /^\{"version":\d+,"id":"[0-9a-f-]{36}","revision":\d+,"messageFile":\{"gen":(\d+),"bytes":(\d+),/;

/** Generation and committed length from a header's first bytes; undefined for a document holding its messages inline. */
export function pointerInHead(text: string): { gen: number; bytes: number } | undefined {
  const m = POINTER_RE.exec(text);
  return m === null ? undefined : { gen: Number(m[1]), bytes: Number(m[2]) };
}

/** Messages as their stored lines (sealed when the codec encrypts). */
export function messageLines(messages: readonly Message[], codec: ContentCodec): string {
  let out = "";
  for (const m of messages) out += `${JSON.stringify(codec.sealMessage(m))}\n`;
  return out;
}

/** The stored messages in the first `bytes` bytes of a message file, or why they cannot be read; undefined when the file is absent. */
export async function readMessageLines(path: string, name: string, file: MessageFile): Promise<{ ok: true; messages: unknown[] } | { ok: false; reason: string } | undefined> {
  if (file.bytes === 0) return { ok: true, messages: [] };
  let read;
  try {
    read = await readDocumentFile(path);
  } catch (err) {
    if (errnoOf(err) === "ELOOP") return { ok: false, reason: `${name} is not a regular file` };
    throw storageError("read", path, err);
  }
  if (read === undefined) return undefined;
  if (!read.isFile) return { ok: false, reason: `${name} is not a regular file` };
  if (read.data.length < file.bytes) return { ok: false, reason: `${name} holds ${read.data.length} bytes, fewer than the ${file.bytes} its header counts` };
  const text = read.data.subarray(0, file.bytes).toString("utf8");
  if (!text.endsWith("\n")) return { ok: false, reason: `${name} does not end a line where its header says` };
  const lines = text.split("\n");
  lines.pop();
  if (lines.length !== file.count) return { ok: false, reason: `${name} holds ${lines.length} messages, not the ${file.count} its header counts` };
  const messages: unknown[] = new Array(lines.length);
  for (let i = 0; i < lines.length; i++) {
    try {
      messages[i] = JSON.parse(lines[i] as string);
    } catch {
      return { ok: false, reason: `line ${i + 1} of ${name} is not JSON` };
    }
  }
  const last = messages.at(-1) as { id?: unknown } | undefined;
  if ((last?.id ?? null) !== file.last) return { ok: false, reason: `the last message of ${name} is not the one its header names` };
  return { ok: true, messages };
}

/**
 * Writes `text` at byte `offset` of a message file (created 0600 when
 * absent), cuts whatever an interrupted checkpoint left past it, and
 * flushes; returns true when the file was created (its directory entry is
 * then still to be flushed). A file shorter than `offset` is damage: STORAGE.
 */
export async function writeAt(path: string, offset: number, text: string, op = "append to"): Promise<boolean> {
  let fd: number | undefined;
  try {
    fd = openSync(path, constants.O_RDWR | constants.O_CREAT | NOFOLLOW, FILE_MODE);
    const size = fstatSync(fd).size;
    const created = size === 0 && offset === 0;
    if (created) fchmodSync(fd, FILE_MODE);
    if (size < offset) throw new Error(`the file holds ${size} bytes, fewer than the ${offset} committed`);
    const data = Buffer.from(text, "utf8");
    writeAll(fd, data, offset);
    if (size > offset + data.length) ftruncateSync(fd, offset + data.length);
    await fdatasyncAsync(fd);
    closeSync(fd);
    fd = undefined;
    return created;
  } catch (err) {
    throw storageError(op, path, err);
  } finally {
    if (fd !== undefined) closeQuietly(fd);
  }
}
