import { z } from "zod";

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

const isoDate = z.iso.datetime({ offset: true });
const jsonValue: z.ZodType<JsonValue> = z.lazy(() =>
  z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(jsonValue), z.record(z.string(), jsonValue)]),
);

/** A tool call requested by an assistant message. */
export const toolCallSchema = z.object({
  id: z.string().min(1).max(256),
  name: z.string().min(1).max(256),
  arguments: z.string(),
});

/** One message of the active history or of the pruned-history log. */
export const messageSchema = z.object({
  id: z.string().min(1).max(64),
  role: z.enum(MESSAGE_ROLES),
  content: z.string(),
  sender: z.string().nullable(),
  createdAt: isoDate,
  tokens: z.number().int().nonnegative(),
  pinned: z.boolean(),
  /** Calls this (assistant) message asks for; each must be answered by a tool message. */
  toolCalls: z.array(toolCallSchema).optional(),
  /** For a tool message: the id of the call it answers. */
  toolCallId: z.string().min(1).max(256).optional(),
});

/** A system prompt: never pruned, never summarised. */
export const systemPromptSchema = z.object({
  id: z.string().min(1).max(64),
  content: z.string(),
  tokens: z.number().int().nonnegative(),
  createdAt: isoDate,
});

/** The rolling summary of folded messages. */
export const summarySchema = z.object({
  text: z.string(),
  tokens: z.number().int().nonnegative(),
  /** How many messages the summary covers in total, across all compactions. */
  messageCount: z.number().int().nonnegative(),
  /** Id of the newest message folded into it. */
  throughMessageId: z.string().nullable(),
  updatedAt: isoDate,
  /** Which summarizer produced the latest fold (e.g. "extractive", "openai-compatible"). */
  summarizer: z.string(),
});

/** Tool permissions: patterns with `*` wildcards; deny wins over allow. */
export const toolPolicySchema = z.object({
  allow: z.array(z.string().min(1).max(256)),
  deny: z.array(z.string().min(1).max(256)),
});

/** State of the model's context window for this session. */
export const contextStateSchema = z.object({
  model: z.string().nullable(),
  window: z.number().int().nonnegative().nullable(),
  tokensInUse: z.number().int().nonnegative(),
  compactions: z.number().int().nonnegative(),
  lastCompactedAt: isoDate.nullable(),
  /** Set when the last compaction could not use the configured summarizer. */
  lastSummarizerError: z.string().nullable(),
});

/** The persisted session document, format version 1. Validated on every read. */
export const sessionSchema = z.object({
  version: z.literal(SESSION_FORMAT_VERSION),
  id: z.string(),
  /** Incremented on every save; the store refuses a save whose base revision is stale. */
  revision: z.number().int().nonnegative(),
  key: z.string().min(1).max(1024),
  kind: z.enum(SESSION_KINDS),
  channel: z.string().min(1).max(128),
  participants: z.array(z.string()),
  status: z.enum(SESSION_STATUSES),
  createdAt: isoDate,
  updatedAt: isoDate,
  lastActivityAt: isoDate,
  expiredAt: isoDate.nullable(),
  archivedAt: isoDate.nullable(),
  preferences: z.record(z.string(), jsonValue),
  tools: toolPolicySchema,
  systemPrompts: z.array(systemPromptSchema),
  summary: summarySchema.nullable(),
  messages: z.array(messageSchema),
  /** Messages folded into the summary that the pruned-history log holds. */
  prunedCount: z.number().int().nonnegative(),
  context: contextStateSchema,
});

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
