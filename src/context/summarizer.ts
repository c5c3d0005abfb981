import { OpenclawError } from "../errors.js";
import { createExtractiveSummarizer } from "./extractive.js";
import { createOpenAICompatibleSummarizer, type OpenAICompatibleDeps } from "./openai.js";
import { clampToTokens, estimateTokens } from "./tokens.js";
import type { SummarizeInput, Summarizer, SummarizerSettings } from "./summarizer-types.js";
export type { SummarizeInput, Summarizer, SummarizerSettings } from "./summarizer-types.js";

/** Outcome of {@link ResilientSummarizer.summarizeWithFallback}. */
export interface SummaryResult {
  text: string;
  /** Who wrote it, e.g. "openai-compatible" or "extractive (fallback: openai-compatible failed: model m at http://host/v1: HTTP 500)". */
  summarizer: string;
  /** Why the configured summarizer was bypassed; persist it as `context.lastSummarizerError`. */
  fallbackError?: string;
}

/** The configured summarizer plus its fallback; `summarize` returns text only, `summarizeWithFallback` says who wrote it. */
export interface ResilientSummarizer extends Summarizer {
  /** `maxTokens` from the summarizer config, for callers building a {@link SummarizeInput}. */
  readonly maxTokens: number;
  /** Tries the configured summarizer, then the extractive one; throws SUMMARIZER_FAILED when none succeeds. */
  summarizeWithFallback(input: SummarizeInput, signal?: AbortSignal): Promise<SummaryResult>;
}

/** Test and embedding seams for {@link createSummarizer}. */
export interface SummarizerDeps extends OpenAICompatibleDeps {
  /** Replaces the extractive fallback (tests inject a failing one). */
  fallback?: Summarizer;
  /** Replaces the configured summarizer itself. */
  primary?: Summarizer;
}

/** Builds the configured summarizer, wrapped so a failure of a model-backed one falls back to the extractive one. */
export function createSummarizer(config: SummarizerSettings, deps: SummarizerDeps = {}): ResilientSummarizer {
  const extractive = deps.fallback ?? createExtractiveSummarizer();
  let primary: Summarizer;
  let fallback: Summarizer | null;
  if (deps.primary !== undefined) {
    primary = deps.primary;
    fallback = extractive;
  } else if (config.type === "openai-compatible") {
    primary = createOpenAICompatibleSummarizer(config, deps);
    fallback = extractive;
  } else {
    primary = extractive;
    fallback = null;
  }
  const summarizeWithFallback = (input: SummarizeInput, signal?: AbortSignal): Promise<SummaryResult> => runWithFallback(primary, fallback, input, signal);
  return {
    name: primary.name,
    maxTokens: config.maxTokens,
    summarize: async (input, signal) => (await summarizeWithFallback(input, signal)).text,
    summarizeWithFallback,
  };
}

/** One-shot form of {@link createSummarizer}: builds the configured summarizer and folds `input` with fallback. */
export function summarizeWithFallback(config: SummarizerSettings, input: SummarizeInput, deps: SummarizerDeps = {}, signal?: AbortSignal): Promise<SummaryResult> {
  return createSummarizer(config, deps).summarizeWithFallback(input, signal);
}

/**
 * Runs `primary`, then `fallback` if it fails; the fallback is skipped when the
 * caller aborted, since the caller no longer wants any result.
 */
export async function runWithFallback(primary: Summarizer, fallback: Summarizer | null, input: SummarizeInput, signal?: AbortSignal): Promise<SummaryResult> {
  let primaryError: string;
  try {
    return { text: await attempt(primary, input, signal), summarizer: primary.name };
  } catch (err) {
    primaryError = `${primary.name} failed: ${reason(err)}`;
  }
  if (signal?.aborted) {
    throw new OpenclawError("SUMMARIZER_FAILED", `summarization aborted (${primaryError}); the history was left unchanged`, {
      userError: false,
    });
  }
  if (fallback === null) {
    throw new OpenclawError("SUMMARIZER_FAILED", `${primaryError}; the history was left unchanged`, { userError: false });
  }
  try {
    const text = await attempt(fallback, input, signal);
    return { text, summarizer: `${fallback.name} (fallback: ${primaryError})`, fallbackError: primaryError };
  } catch (err) {
    throw new OpenclawError("SUMMARIZER_FAILED", `${primaryError}; fallback ${fallback.name} failed: ${reason(err)}; the history was left unchanged`, { userError: false });
  }
}

async function attempt(s: Summarizer, input: SummarizeInput, signal?: AbortSignal): Promise<string> {
  const text = (await s.summarize(input, signal)).trim();
  if (text === "") throw new Error("empty summary");
  return clampToTokens(text, input.maxTokens, input.countTokens ?? estimateTokens);
}

function reason(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split("\n")[0] ?? "unknown error";
}
