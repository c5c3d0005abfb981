import { Hono } from "hono";
import type { NewMessage } from "../manager/_message.js";
import type { CommandOutcome } from "../manager/append.js";
import type { Inbound } from "../routing/route.js";
import { assertSegment } from "../session/keys.js";
import type { ToolCall } from "../session/types.js";
import type { GatewayDeps } from "./_deps.js";
import { badRequest, readJson } from "./_http.js";
import { guarded, onlyFields } from "./_admin-params.js";
import { credentialName, senderKey } from "./_rate-limit.js";
import { noteSessions } from "./_request-log.js";

const INBOUND_FIELDS = ["kind", "name", "run", "channel", "senderId", "groupId", "threadId", "accountId", "displayName", "subject", "text", "idempotencyKey"] as const;

/** A channel message as `POST /hooks/inbound` takes it. */
export interface InboundHook {
  inbound: Inbound;
  text: string;
  idempotencyKey: string | undefined;
}

/** What `POST /hooks/inbound` answers. */
export interface InboundReply {
  sessionId: string;
  key: string;
  reply: { id: string; content: string; toolCalls: ToolCall[] };
  /** True when the idempotency key named a message already received: nothing new was stored for it. */
  duplicate: boolean;
  /** Set when the text was an in-chat command (`/new`, `/reset`, `/compact`, `/status`): answered without the model, not stored. */
  command?: CommandOutcome;
}

/**
 * Checks an inbound body strictly: known fields only, the required ones
 * present, every one a non-empty string. Segment syntax (what a channel or
 * id may contain) is the router's to check, with the CLI's messages.
 */
export function parseInbound(body: Record<string, unknown>): InboundHook {
  onlyFields(body, INBOUND_FIELDS);
  const field = (name: (typeof INBOUND_FIELDS)[number], required: boolean): string | undefined => {
    const v = body[name];
    if (v === undefined || v === null) {
      if (required) throw badRequest(`${name} is required`);
      return undefined;
    }
    if (typeof v !== "string") throw badRequest(`${name} must be a string`);
    if (v === "") throw badRequest(`${name} must not be empty`);
    return v;
  };
  const kind = field("kind", false) ?? "message";
  if (kind !== "message" && kind !== "hook" && kind !== "job") throw badRequest(`kind must be "message", "hook" or "job", not ${JSON.stringify(kind).slice(0, 40)}`);
  const text = field("text", true) as string;
  const idempotencyKey = field("idempotencyKey", false);
  if (kind !== "message") {
    // A webhook or job run is its own conversation: never a user's DM or a group's.
    // Checked here, since the name is the default sender too and its error should name it.
    const name = assertSegment(`${kind} name`, field("name", true));
    const run = field("run", false);
    if (kind === "hook" && run !== undefined) throw badRequest('run only applies with kind "job"');
    for (const f of ["groupId", "threadId"] as const) if (body[f] !== undefined && body[f] !== null) throw badRequest(`${f} does not apply with kind "${kind}"`);
    const channel = field("channel", false) ?? kind;
    const senderId = field("senderId", false) ?? name;
    const inbound: Inbound = kind === "hook" ? { channel, senderId, hook: name } : { channel, senderId, job: { name, ...(run !== undefined ? { run } : {}) } };
    return { inbound, text, idempotencyKey };
  }
  for (const f of ["name", "run"] as const) if (body[f] !== undefined && body[f] !== null) throw badRequest(`${f} only applies with kind "hook" or "job"`);
  const channel = field("channel", true) as string;
  const senderId = field("senderId", true) as string;
  const inbound: Inbound = { channel, senderId };
  for (const name of ["groupId", "threadId", "accountId", "displayName", "subject"] as const) {
    const value = field(name, false);
    if (value !== undefined) inbound[name] = value;
  }
  return { inbound, text, idempotencyKey };
}

/**
 * Channel ingress under `/hooks`. `POST /inbound` routes a channel message
 * like `sessions append` does (DM per user per channel, shared group,
 * thread), asks the model with the session's context and stores both sides.
 * `kind: "hook"` goes to the hook's own session (`hook:<name>`), `kind:
 * "job"` to a fresh session per run (`job:<name>:<run>`).
 * A repeated `idempotencyKey` stores nothing twice and returns the reply
 * given the first time.
 */
export function hooksRouter(deps: GatewayDeps): Hono {
  const app = new Hono();
  app.post(
    "/inbound",
    guarded(async (c) => {
      const { inbound, text, idempotencyKey } = parseInbound(await readJson(c, deps.maxBodyBytes));
      deps.rateLimits?.check(credentialName(c), senderKey(inbound.channel, inbound.senderId));
      const message: NewMessage = { role: "user", content: text, sender: inbound.senderId, ...(idempotencyKey !== undefined ? { clientMessageId: idempotencyKey } : {}) };
      // Not aborted when the caller hangs up: the reply is stored and a retry gets it without asking the model again.
      const r = await deps.turns.run({ target: { inbound }, input: [message], options: {}, signal: deps.shutdown, route: "/hooks/inbound" });
      const session = r.session;
      if (session === undefined) throw new Error("a session turn returned no session");
      noteSessions(c, [session]);
      const body: InboundReply = {
        sessionId: session.id,
        key: session.key,
        reply: { id: r.reply.id, content: r.reply.content, toolCalls: r.reply.toolCalls },
        duplicate: r.command === undefined && r.input.length === 0,
        ...(r.command !== undefined ? { command: r.command } : {}),
      };
      return c.json(body);
    }),
  );
  return app;
}
