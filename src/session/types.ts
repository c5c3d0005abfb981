import type { z } from "zod";
import type {
  contextStateSchema,
  messageSchema,
  sessionSchema,
  summarySchema,
  systemPromptSchema,
  toolCallSchema,
  toolPolicySchema,
} from "./schema.js";

/** Current version of the persisted session document. */
export const SESSION_FORMAT_VERSION = 1 as const;

/** Session kinds: one per user per channel, one shared per group, or isolated. */
export const SESSION_KINDS = ["dm", "group", "isolated"] as const;
/** Lifecycle states; see session/lifecycle.ts for the transitions. */
export const SESSION_STATUSES = ["created", "active", "expired", "archived"] as const;
/** Message roles, as a chat-completions API understands them. */
export const MESSAGE_ROLES = ["system", "user", "assistant", "tool"] as const;

/** A session kind. */
export type SessionKind = (typeof SESSION_KINDS)[number];
/** A lifecycle status. */
export type SessionStatus = (typeof SESSION_STATUSES)[number];
/** A message role. */
export type MessageRole = (typeof MESSAGE_ROLES)[number];

/** Any JSON value (preferences hold these). */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

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
}
