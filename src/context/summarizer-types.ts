import type { SummarizerConfig } from "../config/schema.js";
import type { Message, Summary } from "../session/types.js";

type Defaulted = "windowShare" | "maxShareTokens" | "identifiers";
type Loosen<C> = C extends unknown ? Omit<C, Defaulted> & Partial<Pick<C, Defaulted & keyof C>> : never;

/** Summarizer settings as a caller may build them by hand: the schema's, with the keys added later optional (their defaults apply). */
export type SummarizerSettings = Loosen<SummarizerConfig>;

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
