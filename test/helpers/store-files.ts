import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Session } from "../../src/session/types.js";

/** The pointer a header document holds to its message file. */
export interface OnDiskPointer {
  gen: number;
  bytes: number;
  count: number;
  tokens: number;
  last: string | null;
}

/**
 * A session as its files hold it, read without the store: the header
 * `sessions/<id>.json` with the committed lines of the message file it names
 * as `messages` (or the messages it holds inline), and the pointer.
 */
export async function readOnDisk(dir: string, id: string): Promise<{ session: Session; pointer: OnDiskPointer | undefined; headerBytes: number }> {
  const raw = await readFile(join(dir, "sessions", `${id}.json`), "utf8");
  const value = JSON.parse(raw) as Session & { messageFile?: OnDiskPointer };
  const pointer = value.messageFile;
  if (pointer === undefined) return { session: value, pointer, headerBytes: Buffer.byteLength(raw) };
  const data = pointer.bytes === 0 ? Buffer.alloc(0) : await readFile(join(dir, "sessions", `${id}.${pointer.gen}.jsonl`));
  const lines = data
    .subarray(0, pointer.bytes)
    .toString("utf8")
    .split("\n")
    .filter((l) => l !== "");
  const { messageFile: _, ...header } = value;
  return { session: { ...header, messages: lines.map((l) => JSON.parse(l) as Session["messages"][number]) }, pointer, headerBytes: Buffer.byteLength(raw) };
}
