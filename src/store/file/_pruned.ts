import { rm } from "node:fs/promises";
import { basename } from "node:path";
import { storageError } from "../../errors.js";
import type { Message } from "../../session/types.js";
import { loadSchemas } from "../../session/_schemas.js";
import type { StoreWarning } from "../store.js";
import { appendLines, readNoFollow, writeAtomic } from "./_fs.js";

function toLines(messages: readonly Message[]): string {
  return messages.map((m) => `${JSON.stringify(m)}\n`).join("");
}

/** Appends messages to a pruned-history log and flushes them (they exist nowhere else). */
export async function appendPrunedLog(path: string, messages: readonly Message[]): Promise<void> {
  if (messages.length === 0) return;
  await appendLines(path, toLines(messages), true);
}

/**
 * Reads a pruned-history log, oldest first. A line that is not a valid
 * message (a crash can tear the last append) is skipped with a warning
 * rather than making the whole history unreadable.
 */
export async function readPrunedLog(path: string, warn: StoreWarning): Promise<Message[]> {
  let file;
  try {
    file = await readNoFollow(path);
  } catch (err) {
    throw storageError("read", path, err);
  }
  if (file === undefined || !file.isFile) return [];
  const { messageSchema } = await loadSchemas();
  const out: Message[] = [];
  // A crash between logging a fold and saving the document that drops its
  // messages makes the next fold log them again: the first copy wins.
  const seen = new Set<string>();
  const lines = file.data.toString("utf8").split("\n");
  lines.forEach((line, i) => {
    if (line.trim() === "") return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      value = undefined;
    }
    const parsed = messageSchema.safeParse(value);
    if (!parsed.success) warn(`sessions/${basename(path)}: line ${i + 1} is not a valid message (interrupted write?); skipped`);
    else if (!seen.has(parsed.data.id)) {
      seen.add(parsed.data.id);
      out.push(parsed.data);
    }
  });
  return out;
}

/** Replaces a pruned-history log atomically; an empty one is removed. */
export async function replacePrunedLog(path: string, stem: string, messages: readonly Message[]): Promise<void> {
  if (messages.length === 0) {
    try {
      await rm(path, { force: true });
    } catch (err) {
      throw storageError("delete", path, err);
    }
    return;
  }
  await writeAtomic(path, toLines(messages), stem);
}
