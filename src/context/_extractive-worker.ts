import { parentPort } from "node:worker_threads";
import { extractiveSummary } from "./extractive.js";
import type { SummarizeInput } from "./summarizer-types.js";
import { loadTokenCounter, type TokenCounter } from "./tokens.js";

/** One fold's summary, asked of this thread: the input without its counter, and how to make one. */
export interface ExtractiveJob {
  id: number;
  input: Omit<SummarizeInput, "countTokens">;
  /** The token counter to load here (functions cannot cross threads). */
  counter: { model: string; safetyFactor: number };
}

/** This thread's answer to an {@link ExtractiveJob}. */
export type ExtractiveAnswer = { id: number; text: string } | { id: number; error: string };

// The worker side of extractive-thread.ts: builds extractive summaries off
// the thread that serves requests, with its own tokenizer (loaded once).
const counters = new Map<string, Promise<TokenCounter>>();

parentPort?.on("message", (job: ExtractiveJob) => {
  void (async () => {
    const key = `${job.counter.model}\u0000${job.counter.safetyFactor}`;
    let counter = counters.get(key);
    if (counter === undefined) counters.set(key, (counter = loadTokenCounter(job.counter.model, job.counter.safetyFactor)));
    try {
      const c = await counter;
      const text = extractiveSummary({ ...job.input, countTokens: (t) => c.countText(t) });
      parentPort?.postMessage({ id: job.id, text } satisfies ExtractiveAnswer);
    } catch (err) {
      parentPort?.postMessage({ id: job.id, error: err instanceof Error ? err.message : String(err) } satisfies ExtractiveAnswer);
    }
  })();
});
