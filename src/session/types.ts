import type { z } from "zod";
import type { contextStateSchema, messageSchema, messageUsageSchema, originSchema, sessionSchema, sessionUsageSchema, summarySchema, systemPromptSchema, toolCallSchema, toolPolicySchema } from "./schema.js";

export { SESSION_FORMAT_VERSION, SESSION_KINDS, SESSION_STATUSES, MESSAGE_ROLES } from "./constants.js";
export type { SessionKind, SessionStatus, MessageRole, JsonValue } from "./constants.js";
import type { SessionKind, SessionStatus } from "./constants.js";

/** A tool call. */
export type ToolCall = z.infer<typeof toolCallSchema>;
/** A message. */
export type Message = z.infer<typeof messageSchema>;
/** A system prompt. */
export type SystemPrompt = z.infer<typeof systemPromptSchema>;
/** A rolling summary. */
export type Summary = z.infer<typeof summarySchema>;
/** Tool allow/deny lists. */
export type ToolPolicy = z.infer<typeof toolPolicySchema>;
/** Context-window state. */
export type ContextState = z.infer<typeof contextStateSchema>;
/** Tokens one model call used. */
export type MessageUsage = z.infer<typeof messageUsageSchema>;
/** Running token totals of a session's model calls. */
export type SessionUsage = z.infer<typeof sessionUsageSchema>;
/** The totals a listing carries (the index holds one per session, so only what list and the usage report read). */
export type UsageTotals = Pick<SessionUsage, "input" | "output" | "total" | "turns" | "estimatedTurns">;

/** The listing's share of a session's usage. */
export function usageTotals(u: UsageTotals): UsageTotals {
  return { input: u.input, output: u.output, total: u.total, turns: u.turns, estimatedTurns: u.estimatedTurns };
}
/** Where a session's conversation takes place. */
export type Origin = z.infer<typeof originSchema>;
/** A whole session document. */
export type Session = z.infer<typeof sessionSchema>;

/** What `list` and `status` need of a session, kept in the store's index so listing never parses documents. */
export interface SessionSummary {
  id: string;
  key: string;
  kind: SessionKind;
  channel: string;
  status: SessionStatus;
  messageCount: number;
  /** Tokens of the active context (system prompts + summary + messages). */
  tokens: number;
  createdAt: string;
  updatedAt: string;
  lastActivityAt: string;
  expiredAt: string | null;
  archivedAt: string | null;
  revision: number;
  /** Bytes of the session document on disk (0 for stores without files). */
  sizeBytes: number;
  /** Tokens the session's model calls used; absent before the first (and in index entries written before usage was kept). */
  usage?: UsageTotals;
  /** The label an operator gave the session; absent when none. */
  label?: string;
  /** Where the conversation takes place (channel, account, display name, subject); absent before an inbound message. */
  origin?: Origin;
}
