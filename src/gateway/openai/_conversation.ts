import { isOpenclawError, OpenclawError } from "../../errors.js";
import type { SessionManager } from "../../manager/manager.js";
import type { Session } from "../../session/types.js";
import type { Credential } from "../_credential.js";
import { conversationIdOf, sessionOfConversation } from "./_ids.js";
import { mayOpen } from "./_owner.js";
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

/**
 * The session a conversation id names, if `credential` may open it (to read,
 * or with `write` to change): 400 for an id that is not one, and the same 404
 * for no such session as for one the credential may not open, so ids of
 * other callers' sessions cannot even be confirmed.
 */
export async function loadConversation(manager: SessionManager, conversationId: string, access: { credential: Credential; write: boolean; signal?: AbortSignal }): Promise<Session> {
  const id = sessionOfConversation(conversationId);
  let session: Session;
  try {
    session = await manager.get(id, access.signal === undefined ? {} : { signal: access.signal });
  } catch (err) {
    if (isOpenclawError(err, "NOT_FOUND")) throw conversationNotFound(conversationId);
    throw err;
  }
  if (!mayOpen(access.credential, session, access.write)) throw conversationNotFound(conversationId);
  return session;
}

/** The conversation id of a request field: a string, or `{id}`. */
export function conversationParam(raw: unknown): string | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw === "string") return raw;
  if (typeof raw === "object" && !Array.isArray(raw) && typeof (raw as { id?: unknown }).id === "string") return (raw as { id: string }).id;
  throw new OpenclawError("INVALID_ARGUMENT", "conversation must be a conversation id or {id}");
}
