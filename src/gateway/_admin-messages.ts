import { Hono } from "hono";
import { isOpenclawError, OpenclawError } from "../errors.js";
import type { Message } from "../session/types.js";
import type { GatewayDeps } from "./_deps.js";
import { badRequest } from "./_http.js";
import { guarded, intParam, queryOf, refParam, textParam } from "./_admin-params.js";
import { MAX_COUNT } from "./_admin-sessions.js";

/** Messages one page returns when `limit` is not given. */
export const DEFAULT_MESSAGES = 50;

/** One page of a session's messages and where it sits in the whole history. */
export interface MessagePage {
  sessionId: string;
  key: string;
  /** Oldest first. */
  messages: Message[];
  count: number;
  /** Messages in the whole history, folded ones included. */
  total: number;
  /** Position of the page's first message in the whole history (0 = the oldest). */
  offset: number;
  /** More messages lie beyond the page in the direction of paging: older for `before`, newer otherwise. */
  hasMore: boolean;
}

/**
 * Cuts one page out of the whole history. `after` pages forward from a
 * message, `before` backward from one (the page ends just before it),
 * `offset` counts from the oldest; with none of them the page starts at the
 * oldest message. Cursors are message ids, stable while folding moves
 * messages from the active history to the pruned log.
 */
export function pageOf(history: readonly Message[], p: { limit: number; offset?: number | undefined; before?: string | undefined; after?: string | undefined }): Pick<MessagePage, "messages" | "offset" | "hasMore"> {
  const at = (id: string): number => {
    const i = history.findIndex((m) => m.id === id);
    if (i < 0) throw new OpenclawError("NOT_FOUND", `no message ${JSON.stringify(id)} in this session`);
    return i;
  };
  if (p.before !== undefined) {
    const end = at(p.before);
    const start = Math.max(0, end - p.limit);
    return { messages: history.slice(start, end), offset: start, hasMore: start > 0 };
  }
  const start = p.after !== undefined ? at(p.after) + 1 : (p.offset ?? 0);
  const messages = history.slice(start, start + p.limit);
  return { messages, offset: Math.min(start, history.length), hasMore: start + messages.length < history.length };
}

/**
 * `GET /sessions/{ref}/messages` (the whole conversation, folded messages
 * included, paged) and `GET /sessions/{ref}/context`: what the model would
 * be sent now (`built`: messages and tokens by part; `problem` instead when
 * the system prompts alone exceed the budget) and the stored `usage`
 * against the window.
 */
export function messagesRouter(deps: GatewayDeps): Hono {
  const { manager } = deps;
  const app = new Hono();

  app.get(
    "/sessions/:ref/messages",
    guarded(async (c) => {
      const q = queryOf(c, ["limit", "offset", "before", "after"]);
      const limit = intParam(q, "limit", 1, MAX_COUNT) ?? DEFAULT_MESSAGES;
      const offset = intParam(q, "offset", 0, MAX_COUNT);
      const before = textParam(q, "before");
      const after = textParam(q, "after");
      if ([offset, before, after].filter((x) => x !== undefined).length > 1) throw badRequest("give at most one of before, after and offset");
      const session = await manager.get(refParam(c), { signal: deps.shutdown });
      const history = await manager.history(session.id, { signal: deps.shutdown });
      const page = pageOf(history, { limit, offset, before, after });
      const body: MessagePage = { sessionId: session.id, key: session.key, ...page, count: page.messages.length, total: history.length };
      return c.json(body);
    }),
  );

  app.get(
    "/sessions/:ref/context",
    guarded(async (c) => {
      queryOf(c, []);
      const { session, sizeBytes } = await manager.getWithSize(refParam(c), { signal: deps.shutdown });
      const usage = await manager.contextUsage(session);
      const { model, reserve, warnings } = await manager.window(session);
      const head = { sessionId: session.id, key: session.key, model, reserve, warnings, sizeBytes };
      try {
        return c.json({ ...head, built: await manager.buildContext(session.id, { signal: deps.shutdown }), problem: null, usage });
      } catch (err) {
        // System prompts over the budget leave no valid context: say so next to the usage, as `sessions show` does.
        if (!isOpenclawError(err, "CONFIG_INVALID")) throw err;
        return c.json({ ...head, built: null, problem: err.message, usage });
      }
    }),
  );

  return app;
}
