import { z } from "zod";
import { MESSAGE_ROLES, SESSION_FORMAT_VERSION, SESSION_KINDS, SESSION_STATUSES, type JsonValue } from "./constants.js";

// The zod schemas of the persisted format live apart from the types so that
// read paths that never validate a document (listing) do not load zod.

const isoDate = z.iso.datetime({ offset: true });
const jsonValue: z.ZodType<JsonValue> = z.lazy(() => z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(jsonValue), z.record(z.string(), jsonValue)]));

/** A tool call requested by an assistant message. */
export const toolCallSchema = z.object({
  id: z.string().min(1).max(256),
  name: z.string().min(1).max(256),
  arguments: z.string(),
});

/** Tokens one model call used, on the assistant message it produced. */
export const messageUsageSchema = z.object({
  input: z.number().int().nonnegative(),
  output: z.number().int().nonnegative(),
  total: z.number().int().nonnegative(),
  /** True when the upstream reported no usage and these are the session's own counts. */
  estimated: z.boolean().optional(),
});

/** Running totals of the tokens a session's model calls used. */
export const sessionUsageSchema = z.object({
  input: z.number().int().nonnegative(),
  output: z.number().int().nonnegative(),
  total: z.number().int().nonnegative(),
  /** Model calls counted. */
  turns: z.number().int().nonnegative(),
  /** Of those, calls whose usage was estimated (the upstream reported none). */
  estimatedTurns: z.number().int().nonnegative(),
  /** Tokens of the context sent with the last call (the upstream's prompt tokens, else the session's count). */
  lastContextTokens: z.number().int().nonnegative(),
  lastTurnAt: isoDate.nullable(),
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
  /** The sender's own id for this message; a retried append with the same id stores nothing twice. */
  clientId: z.string().min(1).max(256).optional(),
  /** For an assistant reply: the tokens the model call that produced it used. */
  usage: messageUsageSchema.optional(),
  /** The channel it came in on, kept where the session spans channels (dm:main, dm:peer:…, dm:linked:…). */
  channel: z.string().min(1).max(128).optional(),
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
  /** When that error happened. */
  lastSummarizerErrorAt: isoDate.nullable(),
  /**
   * Client message ids of the newest folded messages (at most
   * FOLDED_CLIENT_IDS, oldest first): a retried append is recognised even when
   * another writer folded its first copy out of the active history meanwhile.
   */
  foldedClientIds: z.array(z.string().min(1).max(256)).max(256).optional(),
  /** Tokens the session's model calls used; absent until the first recorded call. */
  usage: sessionUsageSchema.optional(),
});

/** Where a session's conversation takes place, as its latest inbound message described it. */
export const originSchema = z.object({
  /** The channel (for a DM across channels: the one it last came in on). */
  channel: z.string().min(1).max(128),
  /** The bot account that received it, when the channel has several. */
  account: z.string().min(1).max(128).optional(),
  /** The sender's display name. */
  displayName: z.string().min(1).max(256).optional(),
  /** The group's subject or title. */
  subject: z.string().min(1).max(256).optional(),
});

/** The persisted session document, current format. Validated on every read and before every write. */
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
  /** Where the conversation takes place; absent on sessions no inbound message reached. */
  origin: originSchema.optional(),
  /** A name an operator gave the session. */
  label: z.string().min(1).max(256).optional(),
});

/** The header fields an append may change (see HeaderChange in the store contract), validated with the new messages instead of the whole document. */
export const headerChangeSchema = sessionSchema.pick({ status: true, updatedAt: true, lastActivityAt: true, expiredAt: true, archivedAt: true, participants: true, context: true });

/** Format 1: no summarizer error time, no client message ids. Read and upgraded, never written. */
export const sessionSchemaV1 = sessionSchema.extend({
  version: z.literal(1),
  context: contextStateSchema.omit({ lastSummarizerErrorAt: true }),
});

/** Outcome of {@link parseStoredSession}. */
export type StoredParse = { success: true; data: z.infer<typeof sessionSchema> } | { success: false; error: z.ZodError };

/**
 * Validates a stored document of any supported format and returns it in the
 * current one: older formats load and are upgraded when next written.
 */
export function parseStoredSession(value: unknown): StoredParse {
  if (typeof value === "object" && value !== null && (value as { version?: unknown }).version === 1) {
    const v1 = sessionSchemaV1.safeParse(value);
    if (!v1.success) return v1;
    return { success: true, data: { ...v1.data, version: SESSION_FORMAT_VERSION, context: { ...v1.data.context, lastSummarizerErrorAt: null } } };
  }
  return sessionSchema.safeParse(value);
}

/** Format versions this build reads. */
export const READABLE_VERSIONS: readonly number[] = [1, SESSION_FORMAT_VERSION];
