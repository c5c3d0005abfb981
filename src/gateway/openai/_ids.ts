import { randomBytes } from "node:crypto";
import { OpenclawError } from "../../errors.js";
import { describe, isValidId, uuidv7 } from "../../session/ids.js";

// OpenAI-style ids carry the engine's ids inside them, so a conversation,
// response or item id maps back to its session and message with no table
// to keep: a session id (a UUID) becomes 32 hex digits; a message id is the
// same when it is a UUID (always, for messages the engine made) and
// `x<base64url>` otherwise (imported sessions may hold other ids).

const HEX32 = /^[0-9a-f]{32}$/;

/** A fresh UUID made here, for ids needed before the engine stores anything (a streamed reply, an isolated key). */
export function freshId(): string {
  return uuidv7(Date.now(), randomBytes(10));
}

function hexOf(uuid: string): string {
  return uuid.replace(/-/g, "");
}

function uuidOf(hex: string): string {
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** A message id as it appears inside item and response ids. */
export function encodeMessageId(id: string): string {
  return isValidId(id) ? hexOf(id) : `x${Buffer.from(id, "utf8").toString("base64url")}`;
}

/** The message id inside an item or response id, or undefined when `s` cannot be one. */
export function decodeMessageId(s: string): string | undefined {
  if (HEX32.test(s)) return uuidOf(s);
  if (/^x[A-Za-z0-9_-]{1,400}$/.test(s)) {
    const id = Buffer.from(s.slice(1), "base64url").toString("utf8");
    return id.length > 0 && encodeMessageId(id) === s ? id : undefined;
  }
  return undefined;
}

/** The conversation id of a session. */
export function conversationIdOf(sessionId: string): string {
  return `conv_${hexOf(sessionId)}`;
}

/** The session id a conversation id names; INVALID_ID (400) when it is not one of ours. */
export function sessionOfConversation(conversationId: string): string {
  const m = /^conv_([0-9a-f]{32})$/.exec(conversationId);
  if (m === null) throw new OpenclawError("INVALID_ID", `invalid conversation id ${describe(conversationId)}: expected conv_ followed by 32 hex digits`);
  return uuidOf(m[1] as string);
}

/**
 * The id of a stored response: its session and the reply message it
 * produced, so `previous_response_id` leads back to the session.
 */
export function responseIdOf(sessionId: string, replyId: string): string {
  return `resp_${hexOf(sessionId)}_${encodeMessageId(replyId)}`;
}

/** The id of a response nothing was stored for (`store: false`): it names no session, so it cannot be continued. */
export function statelessResponseId(): string {
  return `resp_${randomBytes(24).toString("hex")}`;
}

/**
 * The session and reply message a response id names, or undefined for an id
 * that is not a stored response of this gateway. Both parts are only a
 * claim: the caller checks that the session holds that assistant message.
 */
export function parseResponseId(responseId: string): { sessionId: string; replyId: string } | undefined {
  const m = /^resp_([0-9a-f]{32})_([A-Za-z0-9_-]{1,101})$/.exec(responseId);
  const replyId = m === null ? undefined : decodeMessageId(m[2] as string);
  if (m === null || replyId === undefined) return undefined;
  return { sessionId: uuidOf(m[1] as string), replyId };
}

/** Id of the message item of a stored message (user, system, or an assistant's text). */
export function messageItemId(messageId: string): string {
  return `msg_${encodeMessageId(messageId)}`;
}

/** Id of the function_call item for call number `index` of an assistant message. */
export function callItemId(messageId: string, index: number): string {
  return `fc_${encodeMessageId(messageId)}_${index}`;
}

/** Id of the function_call_output item of a tool message. */
export function outputItemId(messageId: string): string {
  return `fco_${encodeMessageId(messageId)}`;
}

/** The message an item id belongs to, or undefined when `itemId` is not an item id of this gateway. */
export function messageOfItem(itemId: string): string | undefined {
  const m = /^(?:msg_|fco_)([A-Za-z0-9_-]+)$/.exec(itemId) ?? /^fc_([A-Za-z0-9_-]+)_\d{1,4}$/.exec(itemId);
  return m === null ? undefined : decodeMessageId(m[1] as string);
}
