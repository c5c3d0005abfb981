import { BaseListChatMessageHistory } from "@langchain/core/chat_history";
import type { BaseMessage } from "@langchain/core/messages";
import type { SessionManager } from "../../manager/manager.js";
import { ManagedSession, type AdapterOptions, type AdapterTarget } from "../_managed.js";
import { langChainOfContext, messagesOfLangChain } from "./_messages.js";

/**
 * A LangChain chat message history kept by an openclaw SessionManager, for
 * `RunnableWithMessageHistory` or any code that takes a
 * `BaseListChatMessageHistory`. `getMessages` returns the managed context
 * (system prompts, the summary of folded turns as a marked system message,
 * pinned and recent turns within the token budget), so the chain never
 * sends more than the window holds; every message added stays in the
 * session's history and exports, folded or not.
 */
export class OpenclawChatMessageHistory extends BaseListChatMessageHistory {
  /** LangChain's serialisation namespace of this class. */
  lc_namespace = ["openclaw_sessions", "langchain"];
  readonly #session: ManagedSession;

  /** A history over `manager`: an existing session (`{ ref }`: id, id prefix or routing key) or wherever `{ inbound }` routes. */
  constructor(manager: SessionManager, target: AdapterTarget, options: AdapterOptions = {}) {
    super();
    this.#session = new ManagedSession(manager, target, options);
  }

  /** The openclaw session id (routing, and creating the session, when the target is an inbound message). */
  async getSessionId(): Promise<string> {
    return this.#session.id();
  }

  /** What the model should see now, oldest first, as LangChain messages. */
  async getMessages(): Promise<BaseMessage[]> {
    return langChainOfContext(await this.#session.context());
  }

  /** Stores one message (see {@link OpenclawChatMessageHistory.addMessages}). */
  async addMessage(message: BaseMessage): Promise<void> {
    await this.addMessages([message]);
  }

  /**
   * Stores messages in order: AI messages with their tool calls (ids and
   * arguments kept), tool messages under their `tool_call_id`. Messages with
   * an id are stored once: adding them again is harmless. Non-text content
   * and other message types are refused before anything is written.
   */
  override async addMessages(messages: BaseMessage[]): Promise<void> {
    await this.#session.record(messagesOfLangChain(messages, this.#session.sender));
  }

  /** Empties the session: messages, summary and folded history. Its system prompts, preferences and tool policy stay. */
  override async clear(): Promise<void> {
    await this.#session.clear();
  }
}
