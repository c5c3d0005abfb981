import { OpenclawError } from "../errors.js";
import { isolatedKey, normalizeKey, parseKey } from "../session/keys.js";
import type { Message, Session } from "../session/types.js";
import type { ManagerContext, SessionWriter, WriteOptions } from "./_context.js";
import { notFound } from "./_refs.js";
import type { Router } from "./routing.js";

/** Options of {@link forkSession}. */
export interface ForkOptions {
  /** The last message the fork keeps (an id in the active history); default: all of them. */
  at?: string;
  /**
   * The fork's routing key: a `dm:…` or `group:…` key with no live session,
   * or `isolated:<name>`; default `isolated:fork`, a session of its own.
   */
  key?: string;
}

/** What a fork made. */
export interface ForkResult {
  session: Session;
  from: string;
  /** Messages copied into the fork's active history. */
  messages: number;
  /** Messages copied into its pruned-history log. */
  pruned: number;
}

/**
 * A new session holding the source's history up to `at`: its summary, pruned
 * history, pinned messages, preferences, tools and system prompts. The
 * source is only read. A dm or group key gets the fork only when no live
 * session holds it, under the same guarantee as routing.
 */
export async function forkSession(ctx: ManagerContext, writer: SessionWriter, router: Router, id: string, fork: ForkOptions, options: WriteOptions = {}): Promise<ForkResult> {
  const source = await writer.load(id, options);
  if (source === undefined) throw notFound(id);
  // The fork made no model call: the source's usage stays the source's, or every report would count it twice.
  const pruned = (await ctx.store.readPruned(id)).filter((m) => !source.messages.some((a) => a.id === m.id)).map(withoutUsage);
  let messages = source.messages;
  if (fork.at !== undefined) {
    const at = fork.at;
    const index = messages.findIndex((m) => m.id === at);
    if (index < 0) {
      if (pruned.some((m) => m.id === at)) throw new OpenclawError("INVALID_ARGUMENT", `message ${at} was folded into the summary of ${id}; fork at a message of the active history`);
      throw new OpenclawError("NOT_FOUND", `session ${id} holds no message ${JSON.stringify(at)}`);
    }
    messages = messages.slice(0, index + 1);
  }
  const newId = ctx.newId();
  const key = forkKey(fork.key, newId);
  const parsed = parseKey(key);
  const now = ctx.now().toISOString();
  const build = async (): Promise<Session> =>
    router.finalize({
      ...structuredClone(source),
      id: newId,
      revision: 0,
      key,
      kind: parsed.kind,
      channel: parsed.kind === "isolated" ? "isolated" : parsed.channel,
      status: messages.length > 0 ? "active" : "created",
      createdAt: now,
      updatedAt: now,
      lastActivityAt: now,
      expiredAt: null,
      archivedAt: null,
      messages: structuredClone(messages).map(withoutUsage),
      prunedCount: pruned.length,
      context: withoutTotals(structuredClone(source.context)),
    });
  let session: Session;
  if (parsed.kind === "isolated") {
    session = await writer.create(await build(), options);
  } else {
    const r = await router.claim(key, build, options);
    if (!r.created) throw new OpenclawError("ALREADY_EXISTS", `key ${key} already has a live session (${r.session.id}); archive it first or fork under another --key`);
    session = r.session;
  }
  if (pruned.length > 0) session = (await writer.replace(session, pruned, options)).saved;
  return { session, from: source.id, messages: messages.length, pruned: pruned.length };
}

function forkKey(given: string | undefined, id: string): string {
  if (given === undefined) return isolatedKey("fork", id);
  const name = /^isolated:([^:]+)$/.exec(given)?.[1];
  if (name !== undefined) return isolatedKey(name, id);
  const key = normalizeKey(given);
  if (parseKey(key).kind === "isolated") throw new OpenclawError("INVALID_KEY", `give an isolated fork as isolated:<name>, not a full key: ${JSON.stringify(given)}`);
  return key;
}

function withoutUsage(m: Message): Message {
  if (m.usage === undefined) return m;
  const { usage: _usage, ...rest } = m;
  return rest;
}

function withoutTotals(c: Session["context"]): Session["context"] {
  const { usage: _usage, ...rest } = c;
  return rest;
}
