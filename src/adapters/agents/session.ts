import type { AgentInputItem, Session } from "@openai/agents-core";
import type { SessionManager } from "../../manager/manager.js";
import type { Message } from "../../session/types.js";
import { asNewMessage, ManagedSession, originalIdOf, type AdapterOptions, type AdapterTarget } from "../_managed.js";
import { itemsOfContext, itemsOfMessage, messagesOfItems } from "./_items.js";

/**
 * An OpenAI Agents SDK `Session` kept by an openclaw SessionManager. Pass it
 * to `run(agent, input, { session })`: the runner then sends the session's
 * managed context (system prompts, the summary of folded turns as a marked
 * system note, pinned and recent turns within the token budget) and stores
 * every new item, tool calls and their results included, where old turns are
 * folded into the summary instead of dropped.
 */
export class OpenclawAgentsSession implements Session {
  readonly #session: ManagedSession;

  /** A session over `manager`: an existing one (`{ ref }`: id, id prefix or routing key) or wherever `{ inbound }` routes. */
  constructor(manager: SessionManager, target: AdapterTarget, options: AdapterOptions = {}) {
    this.#session = new ManagedSession(manager, target, options);
  }

  /** The openclaw session id (routing, and creating the session, when the target is an inbound message). */
  async getSessionId(): Promise<string> {
    return this.#session.id();
  }

  /**
   * What the model should see, oldest first: the managed context, not the raw
   * history (folded messages stay in the session's history and exports).
   * With `limit`, the latest `limit` items, never opening with a function
   * result whose call was cut off.
   */
  async getItems(limit?: number): Promise<AgentInputItem[]> {
    const items = itemsOfContext(await this.#session.context());
    if (limit === undefined) return items;
    if (limit <= 0) return [];
    const latest = items.slice(-limit);
    const calls = new Set(latest.flatMap((i) => (i.type === "function_call" ? [i.callId] : [])));
    let start = 0;
    while (start < latest.length) {
      const item = latest[start];
      if (item?.type !== "function_call_result" || calls.has(item.callId)) break;
      start++;
    }
    return latest.slice(start);
  }

  /**
   * Stores user, system, assistant, function_call and function_call_output
   * items in order, call ids kept. Items that had an id (or a call id) are
   * stored once: adding them again is harmless. Reasoning items are skipped;
   * other item types, and non-text content, are refused before anything is
   * written.
   */
  async addItems(items: AgentInputItem[]): Promise<void> {
    await this.#session.record(messagesOfItems(items, this.#session.sender));
  }

  /**
   * Removes and returns the latest item. An assistant message stored with
   * its tool calls gives them back one at a time, its text last.
   */
  async popItem(): Promise<AgentInputItem | undefined> {
    const { id, message, messages } = await this.#session.latest();
    if (message === undefined) return undefined;
    const items = itemsOfMessage(message, originalIdOf(message), (callId) => nameOfCall(messages, callId));
    const popped = items.at(-1);
    await this.#session.replaceLatest(id, message, items.length > 1 ? withoutLastPart(message) : undefined);
    return popped;
  }

  /** Empties the session: messages, summary and folded history. Its system prompts, preferences and tool policy stay. */
  async clearSession(): Promise<void> {
    await this.#session.clear();
  }
}

/** The name of a call, from the assistant message that made it (a tool message holds only the id). */
function nameOfCall(messages: readonly Message[], callId: string): string {
  for (const m of messages) {
    const call = m.toolCalls?.find((c) => c.id === callId);
    if (call !== undefined) return call.name;
  }
  return "";
}

/** An assistant message without its last item: its last call, or its text once no call is left. */
function withoutLastPart(m: Message) {
  const { toolCalls: _calls, ...rest } = asNewMessage(m);
  const calls = (m.toolCalls ?? []).slice(0, -1);
  return calls.length > 0 ? { ...rest, toolCalls: calls } : rest;
}
