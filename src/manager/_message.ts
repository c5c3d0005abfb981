import type { TokenCounter } from "../context/tokens.js";
import { OpenclawError } from "../errors.js";
import { describe } from "../session/ids.js";
import { assertId } from "../session/keys.js";
import type { Message, MessageRole, MessageUsage, ToolCall } from "../session/types.js";

/** A message to record. */
export interface NewMessage {
  role: MessageRole;
  content: string;
  sender?: string | null;
  pinned?: boolean;
  toolCalls?: ToolCall[];
  toolCallId?: string;
  /**
   * The sender's own id for this message. A retried append with the same id
   * (after a lost response, say) stores nothing twice and returns the same result.
   */
  clientMessageId?: string;
}

const ROLES: readonly string[] = ["system", "user", "assistant", "tool"];

/** Checks a message before anything is loaded or written; throws a one-line OpenclawError. */
export function validateMessage(message: NewMessage, maxBytes: number): void {
  if (!ROLES.includes(message.role)) throw new OpenclawError("INVALID_ARGUMENT", `invalid role ${describe(message.role)}: expected user, assistant, system or tool`);
  if (typeof message.content !== "string") throw new OpenclawError("INVALID_ARGUMENT", "message content must be text");
  const bytes = Buffer.byteLength(message.content, "utf8");
  if (bytes > maxBytes) {
    throw new OpenclawError("MESSAGE_TOO_LARGE", `message is ${bytes} bytes, over the limit of ${maxBytes} bytes (sessions.maxMessageBytes); nothing was recorded`);
  }
  // What a person or operator types must say something; a model's reply or a tool's output may legitimately be empty.
  if ((message.role === "user" || message.role === "system") && message.content.trim() === "") {
    throw new OpenclawError("INVALID_ARGUMENT", `the ${message.role} message is empty or only whitespace; nothing was recorded`);
  }
  if (message.content.includes("\u0000")) throw new OpenclawError("INVALID_ARGUMENT", "message content contains a NUL character; nothing was recorded");
  if (message.sender !== undefined && message.sender !== null) assertId("sender", message.sender);
  if (message.clientMessageId !== undefined && (typeof message.clientMessageId !== "string" || !/^[\x21-\x7e]{1,256}$/.test(message.clientMessageId))) {
    throw new OpenclawError("INVALID_ARGUMENT", `invalid client message id ${describe(message.clientMessageId)}: use 1-256 printable ASCII characters without spaces`);
  }
  if (message.role === "tool" && message.toolCallId === undefined) {
    throw new OpenclawError("INVALID_ARGUMENT", "a tool message needs the id of the call it answers (toolCallId)");
  }
  if (message.role !== "tool" && message.toolCallId !== undefined) {
    throw new OpenclawError("INVALID_ARGUMENT", "only a tool message answers a tool call (toolCallId)");
  }
  if (message.toolCalls !== undefined && message.toolCalls.length > 0 && message.role !== "assistant") {
    throw new OpenclawError("INVALID_ARGUMENT", "only an assistant message can request tool calls");
  }
}

/** Builds a validated message with its token count, counted once and cached in the document. */
export function buildMessage(message: NewMessage, counter: Pick<TokenCounter, "countMessage">, id: string, now: Date): Message {
  const sender = message.sender === undefined || message.sender === null ? null : message.sender;
  const toolCalls = message.toolCalls !== undefined && message.toolCalls.length > 0 ? message.toolCalls : undefined;
  return {
    id,
    role: message.role,
    content: message.content,
    sender,
    createdAt: now.toISOString(),
    tokens: counter.countMessage({ role: message.role, content: message.content, sender, ...(toolCalls ? { toolCalls } : {}), ...(message.toolCallId !== undefined ? { toolCallId: message.toolCallId } : {}) }),
    pinned: message.pinned === true,
    ...(toolCalls ? { toolCalls } : {}),
    ...(message.toolCallId !== undefined ? { toolCallId: message.toolCallId } : {}),
    ...(message.clientMessageId !== undefined ? { clientId: message.clientMessageId } : {}),
  };
}

/**
 * `m` with the fields an append adds (the channel of a key spanning
 * channels, the reply's usage), copied with Object.assign rather than a
 * spread: in V8 a spread copy gets a hidden class of its own once frozen, so
 * a history of such messages (every reply with usage) made every pass over
 * it, building a context for one, megamorphic: ~10 times as slow.
 */
export function withAppendFields(m: Message, channel: string | undefined, usage: MessageUsage | undefined): Message {
  if (channel === undefined && usage === undefined) return m;
  const out: Message = Object.assign({}, m);
  if (channel !== undefined) out.channel = channel;
  if (usage !== undefined) out.usage = usage;
  return out;
}
