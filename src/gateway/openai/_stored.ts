import { isOpenclawError, OpenclawError } from "../../errors.js";
import type { SessionManager } from "../../manager/manager.js";
import type { Message, Session } from "../../session/types.js";
import type { Credential } from "../_credential.js";
import { parseResponseId, responseIdOf } from "./_ids.js";
import { responsesOptions } from "./_options.js";
import { mayOpen, ownedBy } from "./_owner.js";
import { frameOf, outputOf, responseBody } from "./_response.js";

// A stored response is not a record of its own: it is the reply message its
// id names (see _ids.ts), read back from the session that holds it. Deleting
// a response that later turns were built on leaves the reply in the history
// (the model's view of the conversation stays whole) and lists its id in the
// session preference below, so retrieve and previous_response_id refuse it.

/** The session preference listing the reply ids whose responses were deleted. */
export const DELETED_PREF = "openai.deletedResponses";

/** The reply ids of a session's deleted responses. */
export function deletedReplies(session: Pick<Session, "preferences">): ReadonlySet<string> {
  const listed = session.preferences[DELETED_PREF];
  return new Set(Array.isArray(listed) ? listed.filter((v): v is string => typeof v === "string") : []);
}

/** The 404 for a response that does not exist (or that the credential may not see), worded as OpenAI words it. */
export function responseNotFound(responseId: string): OpenclawError {
  return new OpenclawError("NOT_FOUND", `Response with id '${responseId}' not found.`);
}

/** A stored response: the session, its whole history (folded messages first) and where the reply sits in it. */
export interface StoredResponse {
  id: string;
  session: Session;
  history: Message[];
  at: number;
  reply: Message;
}

/**
 * The response `responseId` names, if `credential` may open its session (to
 * read, or with `write` to delete): the same 404 for a malformed id, an id of
 * no session, a session the credential may not open, a message that is not
 * an assistant reply of that session, and a deleted response, so nobody
 * learns whether another caller's response exists.
 */
export async function loadResponse(manager: SessionManager, responseId: string, access: { credential: Credential; write: boolean; signal?: AbortSignal }): Promise<StoredResponse> {
  const missing = responseNotFound(responseId);
  const parsed = parseResponseId(responseId);
  if (parsed === undefined) throw missing;
  const options = access.signal === undefined ? {} : { signal: access.signal };
  let session: Session;
  let history: Message[];
  try {
    session = await manager.get(parsed.sessionId, options);
    if (!mayOpen(access.credential, session, access.write) || deletedReplies(session).has(parsed.replyId)) throw missing;
    history = await manager.history(session.id, options);
  } catch (err) {
    throw isOpenclawError(err, "NOT_FOUND") ? missing : err;
  }
  const at = history.findIndex((m) => m.id === parsed.replyId && m.role === "assistant");
  const reply = history[at];
  if (reply === undefined) throw missing;
  return { id: responseId, session, history, at, reply };
}

const seconds = (iso: string) => Math.floor(Date.parse(iso) / 1000);

/**
 * The Response object of a stored response, as the create call gave it as
 * far as the session remembers: the reply's items and usage, the session's
 * model, and where it sits: its conversation, or the response before it in
 * the same session as `previous_response_id`. What only the request carried
 * (instructions, tools, sampling settings, metadata) is not stored and reads
 * as the defaults; only complete replies are stored, so the status is
 * `completed`.
 */
export function storedResponseBody(stored: StoredResponse, fallbackModel: string): Record<string, unknown> {
  const { session, history, at, reply } = stored;
  let before = at - 1;
  while (before >= 0 && history[before]?.role !== "assistant") before--;
  const previous = history[before];
  const conversation = ownedBy(session.key)?.kind === "conversation";
  // The turn began with its first input message (the request's time, to the second).
  const start = history[before + 1] ?? reply;
  const frame = frameOf({
    sessionId: session.id,
    conversation,
    previousResponseId: !conversation && previous !== undefined ? responseIdOf(session.id, previous.id) : null,
    instructions: null,
    model: session.context.model ?? fallbackModel,
    store: true,
    echo: responsesOptions({}).echo,
  });
  const u = reply.usage;
  const usage = u === undefined ? null : { prompt_tokens: u.input, completion_tokens: u.output, total_tokens: u.total };
  const body = responseBody({ ...frame, createdAt: seconds(start.createdAt) }, stored.id, {
    status: "completed",
    output: outputOf({ id: reply.id, content: reply.content, toolCalls: reply.toolCalls ?? [] }, "completed"),
    usage,
  });
  return { ...body, completed_at: seconds(reply.createdAt) };
}
