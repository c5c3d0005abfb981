import type { Message, Summary } from "../session/types.js";

/** What a summarizer folds: the summary so far plus the messages leaving the active history. */
export interface SummarizeInput {
  previous: Summary | null;
  /** Oldest first. */
  messages: Message[];
  /** Upper bound of the returned text, in tokens. */
  maxTokens: number;
  /** Exact counter when the caller has one loaded; otherwise summarizers estimate. */
  countTokens?: (text: string) => number;
  /** An operator's extra instruction for this fold (what to keep); model-backed summarizers use it, the extractive one ignores it. */
  focus?: string;
}

/** Turns old messages plus the previous summary into the new rolling summary text. */
export interface Summarizer {
  /** Recorded in `Summary.summarizer`, e.g. "extractive". */
  readonly name: string;
  /** Resolves to the new summary text (it replaces the previous one, so it must include what still matters of it). */
  summarize(input: SummarizeInput, signal?: AbortSignal): Promise<string>;
}
