import { createHash } from "node:crypto";
import { Hono } from "hono";
import { isOpenclawError, OpenclawError } from "../../errors.js";
import type { NewMessage } from "../../manager/_message.js";
import type { Message, Session } from "../../session/types.js";
import { credentialOf } from "../_auth.js";
import type { Credential } from "../_credential.js";
import type { GatewayDeps } from "../_deps.js";
import { badRequest, errorResponse, optBool, optString, readJson } from "../_http.js";
import { noteError, noteSessions } from "../_request-log.js";
import { streamEvents } from "../_sse.js";
import { noModel, type TurnRequest, type TurnResult } from "../_turn.js";
import { conversationParam, loadConversation } from "./_conversation.js";
import { freshId, parseResponseId } from "./_ids.js";
import { fromItems } from "./_items.js";
import { responsesOptions } from "./_options.js";
import { mayOpen, ownedBy, ownedKey } from "./_owner.js";
import { endOf, frameOf, outputOf, responseBody, responseIdFor } from "./_response.js";
import { deletedReplies, DELETED_PREF, loadResponse, storedResponseBody } from "./_stored.js";
import { ResponseEvents } from "./_stream.js";

/**
 * `POST /v1/responses`: the Responses API over the session engine.
 *
 * - `conversation` (a conversation id or `{id}`): the turn runs in that
 *   conversation's session; the input items are recorded, then the reply.
 * - `previous_response_id`: continues the session that response was
 *   recorded in (its id names the session and the reply, and the session
 *   must hold that reply). It continues the session as it stands now:
 *   answering an older response again does not fork the chain.
 * - A `chat` credential opens only sessions it created (see _owner.ts).
 * - neither: the exchange still gets a session of its own (an isolated key),
 *   because the Agents SDK chains calls that look stateless with
 *   `previousResponseId` and the response id must lead somewhere. Until it
 *   is continued, such a one-off session expires after
 *   `gateway.responses.oneOffTtl` and retention deletes it (see
 *   session/reset.ts, isOneOff); once continued it lives as any session. Only
 *   `store: false` makes the request truly stateless: nothing is recorded
 *   and the response id cannot be continued. With a conversation or a
 *   previous response, `store: false` records all the same: the session is
 *   the conversation's memory.
 *
 * `GET /v1/responses/{id}` reads a stored response back from its session
 * and `DELETE` deletes it (see _stored.ts and deleteResponse); both answer
 * the same 404 for an id that is not one, names nothing stored, or names a
 * session the credential may not open.
 *
 * Only the input items given are recorded: with a conversation or a previous
 * response those are the new ones (what the Agents SDK sends). `instructions`
 * are system text for this call only.
 */
export function responsesRouter(deps: GatewayDeps): Hono {
  const app = new Hono();
  app.post("/responses", async (c) => {
    try {
      const body = await readJson(c, deps.maxBodyBytes);
      // Checked first: a gateway with no model must not create sessions it cannot answer in.
      if (deps.model === undefined) throw noModel();
      const stream = optBool(body, "stream") ?? false;
      const store = optBool(body, "store") ?? true;
      const conversation = conversationParam(body.conversation);
      const previous = optString(body, "previous_response_id");
      if (conversation !== undefined && previous !== undefined) throw badRequest("give conversation or previous_response_id, not both");
      const instructions = optString(body, "instructions");
      const options = responsesOptions(body);
      const input = body.input === undefined || body.input === null ? [] : fromItems(body.input, "input");
      if (input.length === 0 && conversation === undefined && previous === undefined) throw badRequest("input is required: a string or a non-empty array of items");
      for (const m of input) deps.manager.checkMessage(m);
      const abort = new AbortController();
      // The request's own signal fires when the client goes away, streaming or not: its turn then does not ask the model.
      const signal = AbortSignal.any([abort.signal, c.req.raw.signal, deps.shutdown]);
      const idem = c.req.header("idempotency-key");
      const sessionId = await sessionFor(deps, { conversation, previous, store, idem, credential: credentialOf(c) }, signal);
      // The client's retry of this request (same key) records nothing twice and gets the stored answer.
      if (sessionId !== undefined && idem !== undefined) input.forEach((m: NewMessage, i) => (m.clientMessageId = `${idem.slice(0, 200)}#${i}`));
      const frame = frameOf({
        sessionId,
        conversation: conversation !== undefined,
        previousResponseId: previous ?? null,
        instructions: instructions ?? null,
        model: optString(body, "model") ?? deps.model.model,
        store,
        echo: options.echo,
      });
      // Named before the model answers, so streamed item ids are the ids the stored reply has.
      const replyId = freshId();
      const request: TurnRequest = { target: sessionId === undefined ? undefined : { ref: sessionId }, input, options: options.upstream, instructions, signal, replyId, route: "/v1/responses" };
      const headers: Record<string, string> = sessionId === undefined ? {} : { "x-openclaw-session-id": sessionId };
      if (!stream) {
        const r = await deps.turns.run(request);
        // After /new or /reset the response belongs to the key's fresh session.
        const moved = r.session !== undefined && r.session.id !== sessionId ? r.session.id : undefined;
        if (moved !== undefined) headers["x-openclaw-session-id"] = moved;
        for (const [k, v] of Object.entries(headers)) c.header(k, v);
        const end = endOf(r.finishReason);
        const output = outputOf(r.reply, end.status === "completed" ? "completed" : "incomplete");
        const f = moved === undefined ? frame : { ...frame, sessionId: moved };
        return c.json(responseBody(f, responseIdFor(f, r.reply.id), { ...end, output, usage: r.usage }));
      }
      return streamEvents(
        c,
        abort,
        async (sse) => {
          const events = new ResponseEvents(sse, frame, replyId);
          let r: TurnResult;
          try {
            r = await deps.turns.run({ ...request, onChunk: (chunk) => events.chunk(chunk) });
          } catch (err) {
            if (!events.started) throw err;
            // Ended as response.failed, not as an HTTP error: the request's log line still gets the error.
            noteError(c, err);
            await events.fail(err);
            return;
          }
          // A /new or /reset streamed nothing yet: its response belongs to the key's fresh session.
          const moved = !events.started && r.session !== undefined && r.session.id !== sessionId;
          await (moved && r.session !== undefined ? new ResponseEvents(sse, { ...frame, sessionId: r.session.id }, replyId) : events).finish(r);
        },
        { headers },
      );
    } catch (err) {
      return errorResponse(c, err);
    }
  });
  app.get("/responses/:id", async (c) => {
    try {
      // Only a background response streams on retrieve, and this gateway makes none.
      if (c.req.query("stream") === "true") throw badRequest("stream is only for background responses, which this gateway does not make; retrieve without stream");
      const stored = await loadResponse(deps.manager, c.req.param("id"), { credential: credentialOf(c), write: false, signal: c.req.raw.signal });
      noteSessions(c, [stored.session]);
      c.header("x-openclaw-session-id", stored.session.id);
      return c.json(storedResponseBody(stored, deps.model?.model ?? deps.manager.config.sessions.model));
    } catch (err) {
      return errorResponse(c, err);
    }
  });
  app.delete("/responses/:id", async (c) => {
    try {
      const id = c.req.param("id");
      const access = { credential: credentialOf(c), write: true, signal: c.req.raw.signal };
      const { session } = await loadResponse(deps.manager, id, access);
      noteSessions(c, [session]);
      // Read again inside the session's turn, so a turn or another delete running meanwhile is seen.
      await deps.turns.exclusive(session.id, () => deleteResponse(deps, id, access));
      return c.json({ id, object: "response", deleted: true });
    } catch (err) {
      return errorResponse(c, err);
    }
  });
  return app;
}

/**
 * Deletes a stored response. A response session (one `POST /v1/responses`
 * made) left with no other response goes whole: nothing could reach its
 * messages any more. Otherwise the reply stays in the history, which later
 * turns were built on, and is marked deleted (see _stored.ts).
 */
async function deleteResponse(deps: GatewayDeps, id: string, access: { credential: Credential; write: boolean; signal: AbortSignal }): Promise<void> {
  const { session, history, reply } = await loadResponse(deps.manager, id, access);
  const deleted = deletedReplies(session);
  const others = history.some((m) => m.role === "assistant" && m.id !== reply.id && !deleted.has(m.id));
  if (ownedBy(session.key)?.kind === "response" && !others) await deps.manager.delete(session.id);
  else await deps.manager.edit(session.id, { set: { [DELETED_PREF]: [...deleted, reply.id] } });
}

/** The session a request runs in; undefined when it is stateless. */
async function sessionFor(
  deps: GatewayDeps,
  req: { conversation: string | undefined; previous: string | undefined; store: boolean; idem: string | undefined; credential: Credential },
  signal: AbortSignal,
): Promise<string | undefined> {
  const { credential } = req;
  if (req.conversation !== undefined) return (await loadConversation(deps.manager, req.conversation, { credential, write: true, signal })).id;
  if (req.previous !== undefined) return (await previousSession(deps, req.previous, credential, signal)).id;
  if (!req.store) return undefined;
  if (req.idem === undefined) {
    const id = freshId();
    return (await deps.manager.create({ key: ownedKey("response", id, credential), id }, { signal })).id;
  }
  // Keyed by the credential and the idempotency key, so the client's retry of a request whose answer
  // was lost lands in the same session, and another credential's same key never does.
  // Found or created atomically in the store: attempts racing on two gateways share one session.
  const key = ownedKey("response", createHash("sha256").update(`${credential.name}\0${req.idem}`).digest("hex").slice(0, 32), credential);
  return (await deps.manager.claimKey(key, { signal })).id;
}

/**
 * The session a `previous_response_id` continues: the id's session must
 * exist, the credential may open it, and it must hold the id's reply as an
 * assistant message (active or folded). Any other id gets OpenAI's 400, the
 * same whichever check failed.
 */
async function previousSession(deps: GatewayDeps, responseId: string, credential: Credential, signal: AbortSignal): Promise<Session> {
  const missing = badRequest(`Previous response with id '${responseId}' not found.`);
  const parsed = parseResponseId(responseId);
  if (parsed === undefined) throw missing;
  let session: Session;
  try {
    session = await deps.manager.get(parsed.sessionId, { signal });
  } catch (err) {
    throw isOpenclawError(err, "NOT_FOUND") ? missing : err;
  }
  if (!mayOpen(credential, session, true) || deletedReplies(session).has(parsed.replyId)) throw missing;
  // Said plainly rather than as the session's own error, which speaks of routing keys.
  if (session.status === "expired")
    throw new OpenclawError("SESSION_EXPIRED", `Previous response with id '${responseId}' has expired and can no longer be continued: send the conversation so far as input, without previous_response_id.`);
  const isReply = (m: Message) => m.id === parsed.replyId && m.role === "assistant";
  // The active history first: the reply a client continues is nearly always still there.
  if (!session.messages.some(isReply) && !(await deps.manager.prunedHistory(session.id)).some(isReply)) throw missing;
  return session;
}
