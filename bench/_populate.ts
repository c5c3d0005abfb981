import { readdir, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { uuidv7 } from "../src/session/ids.js";
import { newSession } from "../src/session/new.js";
import type { Message, Session, SessionKind } from "../src/session/types.js";
import { estimateTokens } from "../src/context/tokens.js";
import { openFileStore } from "../src/store/file/file-store.js";
import { snapshotText } from "../src/store/file/_activity-index.js";
import { prepareDocument } from "../src/store/_document.js";
import { toSummary } from "../src/session/lifecycle.js";
import type { SessionSummary } from "../src/session/types.js";

/** A small seeded generator, so every run builds the same store shape. */
export class Rng {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0 || 1;
  }

  /** A float in [0, 1). */
  next(): number {
    // xorshift32: fast and good enough to vary lengths and words.
    let x = this.#state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#state = x >>> 0;
    return this.#state / 0x1_0000_0000;
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** One element of a non-empty list. */
  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)];
    if (item === undefined) throw new Error("pick from an empty list");
    return item;
  }

  /** `n` pseudo-random bytes. */
  bytes(n: number): Uint8Array {
    return Uint8Array.from({ length: n }, () => Math.floor(this.next() * 256));
  }
}

const WORDS = (
  "the order table booking invoice refund please thanks when where could would should meeting tomorrow " +
  "today deadline project report draft review summary budget flight hotel train ticket receipt account " +
  "password reset error deploy server build release customer support weather recipe dinner lunch"
).split(" ");
const CHANNELS = ["telegram", "slack", "discord", "whatsapp", "signal"] as const;

/** Chat-like text of `words` words with the identifiers, numbers and URLs real chats carry. */
export function chatText(rng: Rng, words: number): string {
  const out: string[] = [];
  for (let i = 0; i < words; i++) {
    const r = rng.next();
    if (r < 0.04) out.push(`INV-${rng.int(1000, 9999)}`);
    else if (r < 0.06) out.push(`https://example.com/r/${rng.int(1, 99999)}`);
    else if (r < 0.1) out.push(String(rng.int(1, 500)));
    else out.push(rng.pick(WORDS));
  }
  return `${out.join(" ")}.`;
}

/** Shape of the generated sessions. */
export interface SessionShape {
  /** Messages per session (default 20). */
  messages?: number;
  /** Words per message, min and max (default 6–60, about 250 bytes on average). */
  words?: [number, number];
  /** Sessions are active within this many ms before `now` (default 12 h, under the default 24 h expiry). */
  activeWithinMs?: number;
}

/** A realistic active session: alternating user/assistant turns, keys by kind, token counts from the library's estimator. */
export function makeSession(rng: Rng, now: Date, shape: SessionShape = {}): Session {
  const count = shape.messages ?? 20;
  const [minWords, maxWords] = shape.words ?? [6, 60];
  const last = now.getTime() - Math.floor(rng.next() * (shape.activeWithinMs ?? 12 * 3_600_000));
  const first = last - count * 60_000;
  const id = uuidv7(first, rng.bytes(10));
  const r = rng.next();
  const kind: SessionKind = r < 0.7 ? "dm" : r < 0.95 ? "group" : "isolated";
  const channel = kind === "isolated" ? "isolated" : rng.pick(CHANNELS);
  const subject = `u${rng.int(1, 9_999_999)}`;
  const key = kind === "isolated" ? `isolated:task:${id.slice(-12)}` : `${kind}:${channel}:${kind === "group" ? "g" : ""}${subject}-${id.slice(-6)}`;
  const members = kind === "group" ? [subject, `u${rng.int(1, 9_999_999)}`, `u${rng.int(1, 9_999_999)}`] : [subject];
  const messages: Message[] = [];
  for (let i = 0; i < count; i++) {
    const at = first + i * 60_000;
    const user = i % 2 === 0;
    const content = chatText(rng, rng.int(minWords, maxWords));
    const sender = user ? rng.pick(members) : null;
    messages.push({
      id: uuidv7(at, rng.bytes(10)),
      role: user ? "user" : "assistant",
      content,
      sender,
      createdAt: new Date(at).toISOString(),
      tokens: estimateTokens(content) + 4,
      pinned: false,
    });
  }
  const base = newSession({ id, key, kind, channel, participants: members, tools: { allow: ["*"], deny: [] }, now: new Date(first) });
  const at = new Date(last).toISOString();
  return {
    ...base,
    status: "active",
    updatedAt: at,
    lastActivityAt: at,
    messages,
    context: { ...base.context, tokensInUse: messages.reduce((n, m) => n + m.tokens, 0) },
  };
}

/**
 * Fills a file store with `count` sessions through `FileStore.commit` (atomic,
 * fsynced, indexed, as in production) from `parallel` concurrent writers,
 * which is much faster than replaying every message through durable appends.
 */
export async function populate(dir: string, count: number, options: { seed?: number; parallel?: number; shape?: SessionShape; onProgress?: (done: number) => void; bulk?: number } = {}): Promise<{ ms: number }> {
  const rng = new Rng(options.seed ?? 42);
  const now = new Date();
  const started = performance.now();
  const bulk = Math.min(Math.max(0, options.bulk ?? 0), count);
  if (bulk > 0) await bulkWrite(dir, bulk, rng, now, options);
  const store = await openFileStore({ dir, warn: (m) => process.stderr.write(`warning: ${m}\n`) });
  let next = bulk;
  let done = bulk;
  const worker = async (): Promise<void> => {
    while (next < count) {
      next++;
      await store.commit({ session: makeSession(rng, now, options.shape), expectedRevision: null });
      done++;
      if (done % 1000 === 0) options.onProgress?.(done);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.parallel ?? 32) }, worker));
  await store.close();
  return { ms: performance.now() - started };
}

/**
 * Writes `count` documents and the index snapshot that describes them
 * directly, without fsync, journal or locks: what a store that has been
 * running long enough for its journal to fold looks like, built in seconds
 * instead of minutes. The sessions after these go through `commit`, so the
 * journal and the log end up as production leaves them.
 */
async function bulkWrite(dir: string, count: number, rng: Rng, now: Date, options: { shape?: SessionShape; onProgress?: (done: number) => void }): Promise<void> {
  // Opening creates the directories with their modes; closed before the files appear behind its back.
  await (await openFileStore({ dir, warn: (m) => process.stderr.write(`warning: ${m}\n`) })).close();
  const sessions = join(dir, "sessions");
  const summaries: SessionSummary[] = [];
  for (let i = 0; i < count; i++) {
    const doc = await prepareDocument(makeSession(rng, now, options.shape), 1);
    const text = JSON.stringify(doc);
    await writeFile(join(sessions, `${doc.id}.json`), text, { mode: 0o600 });
    summaries.push(toSummary(doc, Buffer.byteLength(text)));
    if ((i + 1) % 1000 === 0) options.onProgress?.(i + 1);
  }
  await writeFile(join(sessions, "index.json"), snapshotText(summaries), { mode: 0o600 });
}

/** Bytes of the session documents of a store (index and logs excluded). */
export async function documentBytes(dir: string): Promise<number> {
  const sessions = join(dir, "sessions");
  let total = 0;
  for (const name of await readdir(sessions)) {
    if (/^[0-9a-f-]{36}\.json$/.test(name)) total += (await stat(join(sessions, name))).size;
  }
  return total;
}
