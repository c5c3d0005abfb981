import { createHash } from "node:crypto";
import type { ChatMessage } from "../context/build.js";
import type { AppendResult } from "../manager/append.js";
import type { NewMessage } from "../manager/_message.js";
import type { SessionManager } from "../manager/manager.js";
import type { ClearReport } from "../manager/types.js";
import type { Inbound } from "../routing/route.js";
import type { Message } from "../session/types.js";

/**
 * Which session an adapter works on: an existing one by reference (full id,
 * unique id prefix, or routing key), or wherever an inbound message routes.
 * A DM or group inbound is routed on every call, so once its session has
 * expired the next message starts the fresh one; an isolated inbound starts
 * one session on first use and keeps it.
 */
export type AdapterTarget = { ref: string } | { inbound: Inbound };

/** Settings shared by the adapters. */
export interface AdapterOptions {
  /** Sender recorded on user messages; default: the inbound's sender, or none for a reference. */
  sender?: string;
  /** Aborts every call made through the adapter. */
  signal?: AbortSignal;
}

/** One message of the model-ready context, with the stored message it came from (none for system prompts and the summary). */
export interface ContextEntry {
  chat: ChatMessage;
  message: Message | undefined;
  /** The id the message had in the caller's library, when it was stored with one. */
  originalId: string | undefined;
}

// Client message ids the adapters derive, so a retried add stores nothing twice.
const ORIGINAL = "item:";
const CLIENT_ID = /^[\x21-\x7e]{1,256}$/;

/** The client message id for a message that had `id` in the caller's library; undefined when it cannot be one. */
export function clientIdOfOriginal(id: string | undefined): string | undefined {
  return clientIdFrom(ORIGINAL, id);
}

/** The client message id of an assistant message whose first call is `callId`. */
export function clientIdOfCall(callId: string): string | undefined {
  return clientIdFrom("call:", callId);
}

/** The client message id of the result answering `callId`. */
export function clientIdOfResult(callId: string): string | undefined {
  return clientIdFrom("result:", callId);
}

function clientIdFrom(prefix: string, id: string | undefined): string | undefined {
  if (id === undefined || id === "") return undefined;
  const clientId = `${prefix}${id}`;
  return CLIENT_ID.test(clientId) ? clientId : undefined;
}

/** The caller's own id of a stored message, when it was recorded with one. */
export function originalIdOf(message: Message | undefined): string | undefined {
  const clientId = message?.clientId;
  return clientId?.startsWith(ORIGINAL) === true ? clientId.slice(ORIGINAL.length).replace(TURN_SUFFIX, "") : undefined;
}

// An item id or call id that names a reply is the upstream's, not the caller's: Ollama
// draws response ids from 0–998 and some servers send one constant, so on its own it
// would take a new reply for one already stored. It is bound to the turn instead: the
// question the turn answers (its stored id) and every message before it in the batch,
// itself included. Adding the same batch again gives the same keys (stored once); a
// reply in a later turn, or at another place in this one, gets a new key.
const TURN_SUFFIX = /~[0-9a-f]{16}$/;

/** The hash that chains `message` to what came before it in its turn. */
function chained(previous: string, m: NewMessage): string {
  const identity = JSON.stringify([m.role, m.content, m.clientMessageId ?? null, m.toolCalls ?? null, m.toolCallId ?? null]);
  return createHash("sha256").update(previous).update("\n").update(identity).digest("hex").slice(0, 16);
}

/** `m` with its client id bound to its place in the turn (no client id when the bound one would be too long). */
function boundToTurn(m: NewMessage, chain: string): NewMessage {
  if (m.clientMessageId === undefined) return m;
  const { clientMessageId, ...rest } = m;
  const bound = `${clientMessageId}~${chain}`;
  return CLIENT_ID.test(bound) ? { ...rest, clientMessageId: bound } : rest;
}

/** The stored id of the question the latest turn answers ("" before any). */
function turnOf(messages: readonly Message[]): string {
  return messages.findLast((m) => m.role === "user")?.id ?? "";
}

/**
 * One session seen through a SessionManager, the way both adapters need it:
 * resolving the target, reading the managed context with the stored messages
 * behind it, recording, removing the latest message, clearing.
 */
export class ManagedSession {
  readonly #manager: SessionManager;
  readonly #target: AdapterTarget;
  readonly #sender: string | null;
  readonly #signal: AbortSignal | undefined;
  #isolated: Promise<string> | undefined;

  constructor(manager: SessionManager, target: AdapterTarget, options: AdapterOptions = {}) {
    this.#manager = manager;
    this.#target = target;
    this.#sender = options.sender ?? ("inbound" in target ? target.inbound.senderId : null);
    this.#signal = options.signal;
  }

  /** Sender recorded on user messages. */
  get sender(): string | null {
    return this.#sender;
  }

  /** The id of the session the next call works on (routing, and creating, when needed). */
  async id(): Promise<string> {
    const signal = this.#opts();
    if ("ref" in this.#target) return this.#manager.resolve(this.#target.ref, signal);
    const inbound = this.#target.inbound;
    if (inbound.isolated === undefined) return (await this.#manager.route(inbound, signal)).id;
    // An isolated inbound makes a new session on every route: route once and keep it.
    this.#isolated ??= this.#manager.route(inbound, signal).then((s) => s.id);
    try {
      return await this.#isolated;
    } catch (err) {
      this.#isolated = undefined;
      throw err;
    }
  }

  /**
   * What the model should see now (system prompts, the summary note, pinned
   * and recent turns within the budget), each history message paired with
   * its stored message.
   */
  async context(): Promise<ContextEntry[]> {
    const id = await this.id();
    const built = await this.#manager.buildContext(id, this.#opts());
    const session = await this.#manager.get(id, this.#opts());
    const byId = new Map(session.messages.map((m) => [m.id, m]));
    const lead = built.messages.length - built.included.length;
    const entries = built.messages.map((chat, i): ContextEntry => {
      const messageId = i >= lead ? built.included[i - lead] : undefined;
      const message = messageId === undefined ? undefined : byId.get(messageId);
      return { chat, message, originalId: originalIdOf(message) };
    });
    return withPendingCalls(entries, session.messages);
  }

  /**
   * Records messages in order into the session; a message whose client id is
   * already held is not stored again. A user message keeps its client id as
   * given; any other message's is bound to its turn (see TURN_SUFFIX), so
   * adding the same batch again stores nothing twice while a later reply
   * under a reused upstream id is still stored.
   */
  async record(messages: readonly NewMessage[]): Promise<AppendResult[]> {
    if (messages.length === 0) return [];
    // Every message is checked before the first is written, so a bad batch leaves no trace.
    for (const m of messages) this.#manager.checkMessage(m);
    const id = await this.id();
    let chain = turnOf((await this.#manager.get(id, this.#opts())).messages);
    const results: AppendResult[] = [];
    for (const m of messages) {
      if (m.role === "user") {
        const result = await this.#manager.record({ ref: id }, m, this.#opts());
        chain = result.message.id;
        results.push(result);
        continue;
      }
      chain = chained(chain, m);
      results.push(await this.#manager.record({ ref: id }, boundToTurn(m, chain), this.#opts()));
    }
    return results;
  }

  /** The active history and its latest message (undefined when there is none). */
  async latest(): Promise<{ id: string; message: Message | undefined; messages: readonly Message[] }> {
    const id = await this.id();
    const session = await this.#manager.get(id, this.#opts());
    return { id, message: session.messages.at(-1), messages: session.messages };
  }

  /**
   * Removes the latest message; with `keep`, records that remainder in its
   * place under the same id (the last of its parts taken off).
   */
  async replaceLatest(sessionId: string, latest: Message, keep: NewMessage | undefined): Promise<void> {
    await this.#manager.deleteMessage(sessionId, latest.id, this.#opts());
    if (keep !== undefined) await this.#manager.record({ ref: sessionId }, keep, { ...this.#opts(), messageId: latest.id });
  }

  /** Removes the history (messages, summary, pruned history); system prompts, preferences and tools stay. */
  async clear(): Promise<ClearReport> {
    return this.#manager.clear(await this.id(), this.#opts());
  }

  #opts(): { signal?: AbortSignal } {
    return this.#signal === undefined ? {} : { signal: this.#signal };
  }
}

/**
 * The model-ready context leaves out calls that have no result yet, since no
 * model accepts them. A library that keeps history in a session adds those
 * results as its next input, though, right after what it read: so calls
 * still waiting at the end of the history are shown, with their message,
 * for the results to follow.
 */
function withPendingCalls(entries: ContextEntry[], history: readonly Message[]): ContextEntry[] {
  let i = history.length - 1;
  const answered = new Set<string>();
  for (; i >= 0 && history[i]?.role === "tool"; i--) answered.add(history[i]?.toolCallId ?? "");
  const asker = history[i];
  const calls = asker?.role === "assistant" ? (asker.toolCalls ?? []) : [];
  if (asker === undefined || calls.length === 0 || calls.every((c) => answered.has(c.id))) return entries;
  if ([...answered].some((id) => !calls.some((c) => c.id === id))) return entries;
  const shown = entries.findIndex((e) => e.message?.id === asker.id);
  const pick = shown >= 0 ? calls : calls.filter((c) => !answered.has(c.id));
  const toolCalls = pick.map((c) => ({ id: c.id, type: "function" as const, function: { name: c.name, arguments: c.arguments } }));
  if (shown >= 0) {
    const entry = entries[shown] as ContextEntry;
    return entries.map((e, j) => (j === shown ? { ...entry, chat: { ...entry.chat, tool_calls: toolCalls } } : e));
  }
  return [...entries, { chat: { role: "assistant", content: asker.content, tool_calls: toolCalls }, message: asker, originalId: originalIdOf(asker) }];
}

/** The stored form of a message, as a message to record again (for a partial removal). */
export function asNewMessage(m: Message): NewMessage {
  return {
    role: m.role,
    content: m.content,
    sender: m.sender,
    ...(m.pinned ? { pinned: true } : {}),
    ...(m.toolCalls !== undefined ? { toolCalls: m.toolCalls } : {}),
    ...(m.toolCallId !== undefined ? { toolCallId: m.toolCallId } : {}),
    ...(m.clientId !== undefined ? { clientMessageId: m.clientId } : {}),
  };
}
