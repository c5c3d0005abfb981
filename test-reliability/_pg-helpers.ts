import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { Message } from "../src/session/types.js";
import { openStore } from "../src/store/open.js";
import { ROOT } from "./_helpers.js";

const WRITER = fileURLToPath(new URL("./_pg-writer.mjs", import.meta.url));

/** One failed attempt a writer reported (and retried). */
export interface WriterError {
  code: string;
  message: string;
  /** When the parent read it (Date.now()). */
  at: number;
}

/** A running writer child (test-reliability/_pg-writer.mjs) and what it reported. */
export interface PgWriter {
  child: ChildProcess;
  /** Acknowledged sequence numbers per user, in acknowledgement order. */
  acked: Map<string, number[]>;
  /** When each ack was read, in order (Date.now()). */
  ackTimes: number[];
  /** Acks of appends a retry found already stored (the first attempt's outcome had been unknown). */
  duplicates: number;
  /** Acknowledged messages sent again on purpose, as the writer reported them ("retry|resume <user> <n> dup|new"): each must end in " dup". */
  resent: string[];
  errors: WriterError[];
  stderr: string[];
  /** Lines that are not part of the protocol (should stay empty). */
  stray: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** True once the writer has opened the store and starts writing; false if it exits first. */
  ready: Promise<boolean>;
  /** Resolves once `n` acks in all have arrived, or the child has exited. */
  acks(n: number): Promise<void>;
  count(): number;
}

/** Starts a writer recording `<tag>:<user>:<n>` for each user on `storeUri` until `seconds` pass (undefined: until killed). */
export function startPgWriter(storeUri: string, stateDir: string, tag: string, seconds: number | undefined, users: readonly string[]): PgWriter {
  const child = spawn(process.execPath, [WRITER, storeUri, stateDir, tag, seconds === undefined ? "-" : String(seconds), ...users], {
    cwd: ROOT,
    // Nothing from the caller's shell chooses another store or config.
    env: Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("OPENCLAW_"))),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let markReady: (ready: boolean) => void = () => {};
  const ready = new Promise<boolean>((resolve) => (markReady = resolve));
  const w: PgWriter = {
    ready,
    child,
    acked: new Map(),
    ackTimes: [],
    duplicates: 0,
    resent: [],
    errors: [],
    stderr: [],
    stray: [],
    exited: new Promise((resolve) => child.on("exit", (code, signal) => resolve({ code, signal }))),
    count: () => w.ackTimes.length,
    acks: (n) =>
      new Promise<void>((resolve) => {
        waiters.push({ n, resolve });
        wake();
      }),
  };
  let done = false;
  const waiters: { n: number; resolve: () => void }[] = [];
  const wake = () => {
    for (const waiter of waiters.splice(0)) {
      if (w.count() >= waiter.n || done) waiter.resolve();
      else waiters.push(waiter);
    }
  };
  void w.exited.then(() => {
    markReady(false);
    done = true;
    wake();
  });
  let buffered = "";
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    buffered += chunk;
    const lines = buffered.split("\n");
    buffered = lines.pop() ?? "";
    const now = Date.now();
    for (const line of lines) {
      const ack = /^ack (\S+) (\d+) (new|dup)$/.exec(line);
      const err = /^err (\S+) (".*")$/.exec(line);
      if (ack !== null) {
        const [, user = "", n = "", kind] = ack;
        w.acked.set(user, [...(w.acked.get(user) ?? []), Number(n)]);
        w.ackTimes.push(now);
        if (kind === "dup") w.duplicates++;
      } else if (/^(retry|resume) \S+ \d+ (new|dup)$/.test(line)) {
        w.resent.push(line);
      } else if (err !== null) {
        w.errors.push({ code: err[1] ?? "", message: JSON.parse(err[2] ?? '""') as string, at: now });
      } else if (line === "ready") {
        markReady(true);
      } else if (line !== "done") {
        w.stray.push(line);
      }
    }
    wake();
  });
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => w.stderr.push(chunk));
  return w;
}

/** Every session of a postgres store with its whole history (pruned log first, then the active messages, as stored). */
export async function readPgStore(url: string): Promise<{ key: string; history: Message[] }[]> {
  const store = await openStore(url);
  try {
    const out: { key: string; history: Message[] }[] = [];
    for (const summary of (await store.list({})).items) {
      const loaded = await store.get(summary.id);
      if (loaded === undefined) continue;
      out.push({ key: loaded.session.key, history: [...(await store.readPruned(summary.id)), ...loaded.session.messages] });
    }
    return out;
  } finally {
    await store.close();
  }
}

/** What one writer tag acknowledged, and whether it ended cleanly (then what is stored must be exactly what it acknowledged). */
export interface TagExpectation {
  tag: string;
  acked: Map<string, number[]>;
  clean: boolean;
}

/**
 * Checks what every run must leave: one session per user's key; no message
 * stored twice (id, client id or content); each tag's messages for a user
 * stored as 0..n in order, every acknowledged one among them; for a writer
 * that ended cleanly, exactly what it acknowledged. Returns the number of
 * places where one writer's messages follow the other's (the interleaving).
 */
export function verifyStored(sessions: { key: string; history: Message[] }[], users: readonly string[], tags: readonly TagExpectation[]): { messages: number; switches: number } {
  assert.deepEqual(sessions.map((s) => s.key).sort(), users.map((u) => `dm:rel:${u}`).sort(), "one session per routing key, and no other");
  let messages = 0;
  let switches = 0;
  for (const user of users) {
    const history = sessions.find((s) => s.key === `dm:rel:${user}`)?.history ?? [];
    const contents = history.map((m) => m.content);
    assert.equal(new Set(history.map((m) => m.id)).size, history.length, `${user}: a message id is stored twice`);
    assert.equal(new Set(contents).size, contents.length, `${user}: a message is stored twice`);
    assert.equal(new Set(history.map((m) => m.clientId)).size, history.length, `${user}: a client message id is stored twice`);
    let known = 0;
    for (const { tag, acked, clean } of tags) {
      const prefix = `${tag}:${user}:`;
      const stored = contents.filter((c) => c.startsWith(prefix)).map((c) => Number(c.slice(prefix.length)));
      known += stored.length;
      // One loop per user and tag appends one message at a time and a restart resumes after the last stored one: 0..n, in order.
      assert.deepEqual(
        stored,
        Array.from({ length: stored.length }, (_, i) => i),
        `${user}: writer ${tag}'s messages are not 0..n in order`,
      );
      const ackedHere = acked.get(user) ?? [];
      assert.deepEqual(
        ackedHere,
        [...ackedHere].sort((a, b) => a - b),
        `${user}: writer ${tag} acknowledged out of order`,
      );
      for (const n of ackedHere) assert.ok(n < stored.length, `${user}: acknowledged message ${tag}:${user}:${n} is missing`);
      if (clean) assert.equal(stored.length, ackedHere.length, `${user}: writer ${tag} ended cleanly but ${stored.length - ackedHere.length} of its stored messages were never acknowledged`);
      for (const m of history) if (m.content.startsWith(prefix)) assert.equal(m.clientId, `${tag}-${user}-${m.content.slice(prefix.length)}`, `${user}: ${m.content} lost its client id`);
    }
    assert.equal(known, history.length, `${user}: messages nobody sent`);
    for (let i = 1; i < contents.length; i++) if (contents[i]?.split(":")[0] !== contents[i - 1]?.split(":")[0]) switches++;
    messages += history.length;
  }
  return { messages, switches };
}

/** Sum of acknowledged appends over users. */
export function ackTotal(acked: Map<string, readonly unknown[]>): number {
  return [...acked.values()].reduce((n, a) => n + a.length, 0);
}

/** Merges one writer's acks into a running record (per user, in order). */
export function mergeAcks(into: Map<string, number[]>, from: Map<string, number[]>): void {
  for (const [user, ns] of from) into.set(user, [...(into.get(user) ?? []), ...ns]);
}
