import type { Worker } from "node:worker_threads";
import type { ExtractiveAnswer, ExtractiveJob } from "./_extractive-worker.js";
import { extractiveSummary } from "./extractive.js";
import type { Summarizer } from "./summarizer-types.js";

/** An extractive summarizer that works on a thread of its own; {@link close} ends the thread. */
export interface ThreadedSummarizer extends Summarizer {
  /** Summaries made on the worker thread so far (the rest were made on the calling thread). */
  readonly onThread: number;
  /** Starts the thread now (not at the second fold) and resolves once it takes folds: true, or false where it cannot start. */
  ready(): Promise<boolean>;
  /** Ends the worker thread; later calls start a new one. */
  close(): Promise<void>;
}

/** The job id of the warm-up summary a new thread is asked for. */
const WARM_UP = 0;

interface Pending {
  resolve: (text: string) => void;
  reject: (err: Error) => void;
}

/**
 * The extractive summarizer on a worker thread: a fold's summary (sentence
 * classification, the identifier scan, fitting to the budget: most of a
 * fold's CPU) no longer runs on the thread that answers requests. The
 * worker starts at a process's second fold (the first, and any made while
 * it starts, run on the calling thread), keeps the process alive only while
 * a summary is being made, and loads its own token counter for `counter`.
 * Where a worker cannot start, summaries are made on the calling thread.
 */
export function createThreadedExtractiveSummarizer(counter: { model: string; safetyFactor: number }): ThreadedSummarizer {
  /** The thread taking folds (set once it answered its warm-up). */
  let worker: Worker | undefined;
  /** The thread being started or running, for close(). */
  let starter: Worker | undefined;
  let starting = false;
  let broken = false;
  let nextId = 1;
  let calls = 0;
  let onThread = 0;
  const pending = new Map<number, Pending>();
  /** Callers of ready() waiting for the thread to come up (or fail to). */
  let waiting: ((up: boolean) => void)[] = [];
  const settleWaiting = (up: boolean): void => {
    const w = waiting;
    waiting = [];
    for (const resolve of w) resolve(up);
  };

  const failAll = (why: string): void => {
    for (const p of pending.values()) p.reject(new Error(`the summary thread stopped: ${why}`));
    pending.clear();
    worker = undefined;
    starter = undefined;
    starting = false;
    settleWaiting(false);
  };

  // Started at most once at a time; after a thread that failed to come up, never again in this process.
  const start = (): void => {
    if (starting || broken) return;
    starting = true;
    void (async () => {
      try {
        const { Worker } = await import("node:worker_threads");
        // Running from the TypeScript sources (the tests), the worker registers the same loader first.
        const fromSources = () => {
          const entry = new URL("./_extractive-worker.ts", import.meta.url).href;
          return new Worker(`import { register } from "tsx/esm/api"; register(); await import(${JSON.stringify(entry)});`, { eval: true });
        };
        const w = import.meta.url.endsWith(".ts") ? fromSources() : new Worker(new URL("./_extractive-worker.js", import.meta.url));
        let ready = false;
        w.on("message", (a: ExtractiveAnswer) => {
          if (a.id === WARM_UP) {
            // Up, with its tokenizer loaded: folds go to it from now on.
            ready = "text" in a;
            if (ready) worker = w;
            else broken = true;
            w.unref();
            settleWaiting(ready);
            return;
          }
          const p = pending.get(a.id);
          if (p === undefined) return;
          pending.delete(a.id);
          if (pending.size === 0) w.unref();
          if ("text" in a) p.resolve(a.text);
          else p.reject(new Error(a.error));
        });
        w.on("error", (err) => {
          if (!ready) broken = true;
          failAll(err.message);
        });
        w.on("exit", (code) => failAll(`exit code ${code}`));
        w.postMessage({ id: WARM_UP, input: { previous: null, messages: [], maxTokens: 16 }, counter } satisfies ExtractiveJob);
        // A caller awaiting ready() keeps the process alive until the thread answers; a fold that only started it does not.
        if (waiting.length === 0) w.unref();
        starter = w;
      } catch {
        broken = true;
        starting = false;
        settleWaiting(false);
      }
    })();
  };

  return {
    name: "extractive",
    get onThread() {
      return onThread;
    },
    async summarize(input, signal) {
      signal?.throwIfAborted();
      const w = worker;
      if (w === undefined) {
        // A process's first fold runs here: a one-shot command never pays for a thread. From the
        // second on, the thread is started (not waited for) and takes the folds once it is up.
        if (calls++ > 0) start();
        return extractiveSummary(input);
      }
      onThread++;
      const { countTokens: _ownCounter, ...rest } = input;
      const id = nextId++;
      return new Promise<string>((resolve, reject) => {
        const onAbort = () => {
          pending.delete(id);
          if (pending.size === 0) w.unref();
          reject(signal?.reason instanceof Error ? signal.reason : new Error("aborted"));
        };
        signal?.addEventListener("abort", onAbort, { once: true });
        const settle =
          <T>(fn: (v: T) => void) =>
          (v: T) => {
            signal?.removeEventListener("abort", onAbort);
            fn(v);
          };
        pending.set(id, { resolve: settle(resolve), reject: settle(reject) });
        // Kept alive while a summary is owed: a command-line process waiting for its fold must not exit.
        w.ref();
        w.postMessage({ id, input: rest, counter } satisfies ExtractiveJob);
      });
    },
    ready() {
      if (worker !== undefined) return Promise.resolve(true);
      if (broken) return Promise.resolve(false);
      const up = new Promise<boolean>((resolve) => waiting.push(resolve));
      start();
      // A thread already coming up (started by a fold) now keeps the process alive until it answers.
      starter?.ref();
      return up;
    },
    async close() {
      const w = starter;
      failAll("closed");
      if (w === undefined) return;
      // terminate() of a thread still starting settles only once it is up (hundreds of ms from
      // the sources), and the ending thread keeps nothing alive meanwhile: without a timer of our
      // own, a process awaiting close() as its last work exits with that await unsettled.
      let keep: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([w.terminate(), new Promise<void>((resolve) => (keep = setTimeout(resolve, 5_000)))]);
      clearTimeout(keep);
    },
  };
}
