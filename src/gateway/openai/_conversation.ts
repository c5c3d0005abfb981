import { isOpenclawError, OpenclawError } from "../../errors.js";
import type { SessionManager } from "../../manager/manager.js";
import type { Session } from "../../session/types.js";
import { conversationIdOf, sessionOfConversation } from "./_ids.js";
import { storedMetadata } from "./_options.js";

/** The session preference a conversation's metadata is kept in. */
export const METADATA_PREF = "openai.metadata";

/** The OpenAI Conversation object of a session. */
export function conversationBody(session: Session): Record<string, unknown> {
  return {
    id: conversationIdOf(session.id),
    object: "conversation",
    created_at: Math.floor(Date.parse(session.createdAt) / 1000),
    metadata: storedMetadata(session.preferences[METADATA_PREF]),
  };
}

/** The 404 for a conversation that does not exist, worded as OpenAI words it. */
export function conversationNotFound(conversationId: string): OpenclawError {
  return new OpenclawError("NOT_FOUND", `Conversation with id '${conversationId}' not found.`);
}

/** The session a conversation id names: 400 for an id that is not one, 404 when there is no such session. */
export async function loadConversation(manager: SessionManager, conversationId: string, signal?: AbortSignal): Promise<Session> {
  const id = sessionOfConversation(conversationId);
  try {
    return await manager.get(id, signal === undefined ? {} : { signal });
  } catch (err) {
    if (isOpenclawError(err, "NOT_FOUND")) throw conversationNotFound(conversationId);
    throw err;
  }
}

/** The conversation id of a request field: a string, or `{id}`. */
export function conversationParam(raw: unknown): string | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw === "string") return raw;
  if (typeof raw === "object" && !Array.isArray(raw) && typeof (raw as { id?: unknown }).id === "string") return (raw as { id: string }).id;
  throw new OpenclawError("INVALID_ARGUMENT", "conversation must be a conversation id or {id}");
}
