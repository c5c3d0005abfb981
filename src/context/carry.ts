import type { Session, Summary } from "../session/types.js";
import { CARRIED_MARK } from "./_notes.js";
import { summaryNote } from "./build.js";
import { extractiveSummary } from "./extractive.js";
import type { TokenCounter } from "./tokens.js";

export { CARRIED_MARK } from "./_notes.js";

/**
 * The summary a key's next session starts with: everything its previous
 * session knew — that session's summary with its still unfolded messages
 * rolled in (offline, no model is asked), within `maxTokens` — under a first
 * line saying where it came from. Null when the previous session said
 * nothing to keep.
 */
export function carriedSummary(previous: Session, options: { maxTokens: number; counter: Pick<TokenCounter, "countText" | "countMessage">; now: Date }): Summary | null {
  if (previous.summary === null && previous.messages.length === 0) return null;
  // Rolled even with no message left, so an older carry-over mark becomes one line of it, never a second header.
  const body = extractiveSummary({ previous: previous.summary, messages: previous.messages, maxTokens: options.maxTokens, countTokens: (t) => options.counter.countText(t) });
  if (!/\n/.test(body)) return null;
  const text = `${CARRIED_MARK}${previous.id}, last active ${previous.lastActivityAt}):\n${body}`;
  return {
    text,
    tokens: options.counter.countMessage({ role: "system", content: summaryNote(text) }),
    messageCount: (previous.summary?.messageCount ?? 0) + previous.messages.length,
    throughMessageId: null,
    updatedAt: options.now.toISOString(),
    summarizer: "extractive",
  };
}
