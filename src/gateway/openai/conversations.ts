import { Hono, type Context } from "hono";
import { OpenclawError } from "../../errors.js";
import type { NewMessage } from "../../manager/_message.js";
import type { Message } from "../../session/types.js";
import type { GatewayDeps } from "../_deps.js";
import { credentialOf } from "../_auth.js";
import type { Credential } from "../_credential.js";
import { noteSessions } from "../_request-log.js";
import { badRequest, errorResponse, readJson } from "../_http.js";
import { conversationBody, loadConversation, METADATA_PREF } from "./_conversation.js";
import { conversationIdOf, freshId, messageOfItem } from "./_ids.js";
import { fromItems, itemsOf, type Item } from "./_items.js";
import { metadataOf } from "./_options.js";
import { ownedKey } from "./_owner.js";

/**
 * The Conversations API. A conversation is a session (`conv_<32 hex>` is its
 * id): those created here have the isolated key
 * `isolated:conversation:<id>@<credential>`. A `chat` credential opens only
 * the conversations (and response sessions) it created; with `route` or an
 * admin scope any session can be addressed by its conv_ id (see _owner.ts). Its items are
 * the session's messages, pruned history included, so folding old turns
 * never makes items vanish; each message maps to items with stable ids (see
 * itemsOf). Metadata is kept in the session preference `openai.metadata`.
 *
 * Deleting an item deletes the message it belongs to: the message is what
 * the session stores, and one cannot be stored in part. For an assistant
 * message with text and calls, or several calls, the sibling items go with
 * it (a result answering a deleted call is then left out of the model's
 * context, as any unanswered result is).
 *
 * Item writes hold the session's turn lock, so they never land in the
 * middle of a running turn.
 */
export function conversationsRouter(deps: GatewayDeps): Hono {
  const app = new Hono();
  const { manager } = deps;
  const read = (c: Context) => ({ credential: credentialOf(c), write: false });
  const write = (c: Context) => ({ credential: credentialOf(c), write: true });
  // The conversation the path names, noted for the request's log line.
  const opened = async (c: Context, access: { credential: Credential; write: boolean }) => {
    const session = await loadConversation(manager, param(c, "id"), access);
    noteSessions(c, [session]);
    return session;
  };
  const handle = (fn: (c: Context) => Promise<Response>) => async (c: Context) => {
    try {
      return await fn(c);
    } catch (err) {
      return errorResponse(c, err);
    }
  };

  app.post(
    "/conversations",
    handle(async (c) => {
      const body = await optionalJson(c, deps.maxBodyBytes);
      if (body.items !== undefined && body.items !== null && !Array.isArray(body.items)) throw badRequest("items must be an array of items");
      const messages = body.items === undefined || body.items === null ? [] : fromItems(body.items, "items");
      const metadata = metadataOf(body.metadata, "metadata");
      for (const m of messages) manager.checkMessage(m);
      const id = freshId();
      const session = await manager.create({ key: ownedKey("conversation", id, credentialOf(c)), id });
      noteSessions(c, [session]);
      if (messages.length > 0) await deps.turns.exclusive(session.id, () => recordAll(deps, session.id, messages));
      const saved = metadata !== undefined && Object.keys(metadata).length > 0 ? await manager.edit(session.id, { set: { [METADATA_PREF]: metadata } }) : await manager.get(session.id);
      return c.json(conversationBody(saved));
    }),
  );

  app.get(
    "/conversations/:id",
    handle(async (c) => c.json(conversationBody(await opened(c, read(c))))),
  );

  app.post(
    "/conversations/:id",
    handle(async (c) => {
      const session = await opened(c, write(c));
      const body = await readJson(c, deps.maxBodyBytes);
      if (!("metadata" in body)) throw badRequest("metadata is required (null clears it)");
      const metadata = metadataOf(body.metadata, "metadata");
      const empty = metadata === undefined || Object.keys(metadata).length === 0;
      const saved = await manager.edit(session.id, empty ? { unset: [METADATA_PREF] } : { set: { [METADATA_PREF]: metadata } });
      return c.json(conversationBody(saved));
    }),
  );

  app.delete(
    "/conversations/:id",
    handle(async (c) => {
      const session = await opened(c, write(c));
      await deps.turns.exclusive(session.id, () => manager.delete(session.id));
      return c.json({ id: conversationIdOf(session.id), object: "conversation.deleted", deleted: true });
    }),
  );

  app.post(
    "/conversations/:id/items",
    handle(async (c) => {
      const session = await opened(c, write(c));
      const body = await readJson(c, deps.maxBodyBytes);
      if (!Array.isArray(body.items)) throw badRequest("items must be an array of items");
      const messages = fromItems(body.items, "items");
      for (const m of messages) manager.checkMessage(m);
      const stored = await deps.turns.exclusive(session.id, () => recordAll(deps, session.id, messages));
      const data = stored.flatMap(itemsOf);
      return c.json({ object: "list", data, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: false });
    }),
  );

  app.get(
    "/conversations/:id/items",
    handle(async (c) => {
      const session = await opened(c, read(c));
      const limit = limitOf(c.req.query("limit"));
      const order = c.req.query("order") ?? "desc";
      if (order !== "asc" && order !== "desc") throw badRequest('order must be "asc" or "desc"');
      const items = (await manager.history(session.id)).flatMap(itemsOf);
      if (order === "desc") items.reverse();
      const after = c.req.query("after");
      let start = 0;
      if (after !== undefined && after !== "") {
        const at = items.findIndex((i) => i.id === after);
        if (at < 0) throw badRequest(`after: no item '${after}' in this conversation`);
        start = at + 1;
      }
      const data = items.slice(start, start + limit);
      return c.json({ object: "list", data, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: start + limit < items.length });
    }),
  );

  app.get(
    "/conversations/:id/items/:item",
    handle(async (c) => {
      const session = await opened(c, read(c));
      const { item } = await findItem(deps, session.id, param(c, "item"));
      return c.json(item);
    }),
  );

  app.delete(
    "/conversations/:id/items/:item",
    handle(async (c) => {
      const session = await opened(c, write(c));
      const itemId = param(c, "item");
      await deps.turns.exclusive(session.id, async () => {
        const { message } = await findItem(deps, session.id, itemId);
        if ((await manager.deleteMessage(session.id, message.id)) === undefined) throw itemNotFound(itemId, session.id);
      });
      return c.json(conversationBody(await manager.get(session.id)));
    }),
  );
  return app;
}

/** Records messages in order; returns them as stored. */
async function recordAll(deps: GatewayDeps, sessionId: string, messages: readonly NewMessage[]): Promise<Message[]> {
  const stored: Message[] = [];
  for (const m of messages) stored.push((await deps.manager.record({ ref: sessionId }, m)).message);
  return stored;
}

async function findItem(deps: GatewayDeps, sessionId: string, itemId: string): Promise<{ message: Message; item: Item }> {
  const messageId = messageOfItem(itemId);
  const message = messageId === undefined ? undefined : (await deps.manager.history(sessionId)).find((m) => m.id === messageId);
  const item = message === undefined ? undefined : itemsOf(message).find((i) => i.id === itemId);
  if (message === undefined || item === undefined) throw itemNotFound(itemId, sessionId);
  return { message, item };
}

function itemNotFound(itemId: string, sessionId: string): OpenclawError {
  return new OpenclawError("NOT_FOUND", `Item with id '${itemId}' not found in conversation '${conversationIdOf(sessionId)}'.`);
}

// Handlers are typed with the plain Context (shared by every route), so params are read by name here.
function param(c: Context, name: "id" | "item"): string {
  return c.req.param(name) ?? "";
}

function limitOf(raw: string | undefined): number {
  if (raw === undefined || raw === "") return 20;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 100) throw badRequest("limit must be an integer from 1 to 100");
  return n;
}

/** The JSON body, or `{}` when the request has none (the SDK sends none for a bare create). */
async function optionalJson(c: Context, maxBytes: number): Promise<Record<string, unknown>> {
  if (c.req.raw.body === null || c.req.header("content-length") === "0") return {};
  return readJson(c, maxBytes);
}
