import { OpenclawError } from "../errors.js";
import type { MessageUsage, SessionUsage } from "./types.js";

/**
 * What a caller knows of the model call a reply came from, as the upstream
 * reported it (`usage.prompt_tokens` → input, `completion_tokens` → output,
 * `total_tokens` → total). A count it does not know is estimated: output
 * from the reply's own token count, input from `contextTokens` (what the
 * caller counted it sent) or else the session's tokens in use.
 */
export interface ReplyUsage {
  input?: number | undefined;
  output?: number | undefined;
  total?: number | undefined;
  /** Tokens of the context the caller sent, by its own count. */
  contextTokens?: number | undefined;
}

function count(name: string, v: number | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!Number.isSafeInteger(v) || v < 0) throw new OpenclawError("INVALID_ARGUMENT", `usage.${name} must be a whole number of tokens, 0 or more (got ${String(v)}); nothing was recorded`);
  return v;
}

/** Checks a caller's usage; throws INVALID_ARGUMENT for a count that is not a whole number ≥ 0. */
export function checkReplyUsage(u: ReplyUsage): void {
  count("input", u.input);
  count("output", u.output);
  count("total", u.total);
  count("contextTokens", u.contextTokens);
}

/**
 * The usage stored on a reply, and the context size to remember: reported
 * counts as given, missing ones estimated (and the result marked so).
 */
export function measureCall(u: ReplyUsage, replyTokens: number, tokensInUse: number): { usage: MessageUsage; contextTokens: number } {
  const reportedInput = count("input", u.input);
  const reportedOutput = count("output", u.output);
  const input = reportedInput ?? count("contextTokens", u.contextTokens) ?? tokensInUse;
  const output = reportedOutput ?? replyTokens;
  const estimated = reportedInput === undefined || reportedOutput === undefined;
  const total = count("total", u.total) ?? input + output;
  return { usage: { input, output, total, ...(estimated ? { estimated: true } : {}) }, contextTokens: input };
}

/** The session's totals with one more call added (a running total: nothing is re-summed). */
export function addUsage(current: SessionUsage | undefined, call: MessageUsage, contextTokens: number, at: string): SessionUsage {
  const c = current ?? { input: 0, output: 0, total: 0, turns: 0, estimatedTurns: 0, lastContextTokens: 0, lastTurnAt: null };
  return {
    input: c.input + call.input,
    output: c.output + call.output,
    total: c.total + call.total,
    turns: c.turns + 1,
    estimatedTurns: c.estimatedTurns + (call.estimated === true ? 1 : 0),
    lastContextTokens: contextTokens,
    lastTurnAt: at,
  };
}
