import { AIMessage, HumanMessage, SystemMessage, ToolMessage, type BaseMessage, type InvalidToolCall, type ToolCall as LangChainToolCall } from "@langchain/core/messages";
import type { NewMessage } from "../../manager/_message.js";
import { OpenclawError } from "../../errors.js";
import type { ToolCall } from "../../session/types.js";
import { clientIdOfCall, clientIdOfOriginal, clientIdOfResult, type ContextEntry } from "../_managed.js";

const refuse = (at: string, what: string): OpenclawError =>
  new OpenclawError("INVALID_ARGUMENT", `${at}: ${what} cannot be stored in an openclaw session (text, tool calls with ids and their results only); nothing was recorded`);

/**
 * LangChain messages as messages to record, in order: human → user, ai →
 * assistant (tool calls kept with their ids and arguments as JSON), tool →
 * the result of its `tool_call_id`, system → system. A message's own id (or
 * else its first call's id, or the call it answers) becomes its client
 * message id, so adding the same messages again stores nothing twice.
 */
export function messagesOfLangChain(messages: readonly BaseMessage[], sender: string | null): NewMessage[] {
  return messages.map((m, i) => {
    const at = `messages[${i}]`;
    const content = textOf(m.content, at);
    const own = clientIdOfOriginal(m.id);
    const clientId = (fallback: string | undefined) => {
      const id = own ?? fallback;
      return id === undefined ? {} : { clientMessageId: id };
    };
    if (HumanMessage.isInstance(m)) return { role: "user", content, sender, ...clientId(undefined) };
    if (SystemMessage.isInstance(m)) return { role: "system", content, sender: null, ...clientId(undefined) };
    if (ToolMessage.isInstance(m)) {
      if (typeof m.tool_call_id !== "string" || m.tool_call_id === "") throw refuse(at, "a tool message without tool_call_id");
      return { role: "tool", content, sender: null, toolCallId: m.tool_call_id, ...clientId(clientIdOfResult(m.tool_call_id)) };
    }
    if (AIMessage.isInstance(m)) {
      const calls = [...(m.tool_calls ?? []).map((c, j) => validCall(c, `${at}.tool_calls[${j}]`)), ...(m.invalid_tool_calls ?? []).flatMap((c) => keptInvalidCall(c))];
      const first = calls[0];
      return { role: "assistant", content, sender: null, ...(calls.length > 0 ? { toolCalls: calls } : {}), ...clientId(first === undefined ? undefined : clientIdOfCall(first.id)) };
    }
    throw refuse(at, `a message of type ${JSON.stringify(m.type)}`);
  });
}

/**
 * The context as LangChain messages: system prompts and the summary note as
 * system messages, then the history, each with the id it was added with.
 */
export function langChainOfContext(entries: readonly ContextEntry[]): BaseMessage[] {
  return entries.map(({ chat, originalId }) => {
    const id = originalId === undefined ? {} : { id: originalId };
    switch (chat.role) {
      case "system":
        return new SystemMessage({ content: chat.content, ...id });
      case "user":
        return new HumanMessage({ content: chat.content, ...id, ...(chat.name !== undefined ? { name: chat.name } : {}) });
      case "assistant": {
        const tool_calls: LangChainToolCall[] = [];
        const invalid_tool_calls: InvalidToolCall[] = [];
        for (const c of chat.tool_calls ?? []) {
          const args = parseArgs(c.function.arguments);
          if (args !== undefined) tool_calls.push({ type: "tool_call", id: c.id, name: c.function.name, args });
          else invalid_tool_calls.push({ type: "invalid_tool_call", id: c.id, name: c.function.name, args: c.function.arguments, error: "arguments are not a JSON object" });
        }
        return new AIMessage({ content: chat.content, ...id, tool_calls, invalid_tool_calls });
      }
      case "tool":
        return new ToolMessage({ content: chat.content, tool_call_id: chat.tool_call_id ?? "", ...id });
    }
  });
}

function validCall(c: LangChainToolCall, at: string): ToolCall {
  if (typeof c.id !== "string" || c.id === "") throw refuse(at, "a tool call without an id (its result could never be matched to it)");
  return { id: c.id, name: c.name, arguments: JSON.stringify(c.args ?? {}) };
}

// A call the model garbled still gets a result the model must see beside it, when it has an id.
function keptInvalidCall(c: InvalidToolCall): ToolCall[] {
  if (typeof c.id !== "string" || c.id === "" || typeof c.name !== "string" || c.name === "") return [];
  return [{ id: c.id, name: c.name, arguments: typeof c.args === "string" ? c.args : "" }];
}

function parseArgs(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text === "" ? "{}" : text);
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function textOf(content: unknown, at: string): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) throw refuse(`${at}.content`, "content that is neither text nor content blocks");
  return content
    .map((block: unknown, j) => {
      const b = block as { type?: unknown; text?: unknown };
      if (typeof b === "object" && b !== null && b.type === "text" && typeof b.text === "string") return b.text;
      throw refuse(`${at}.content[${j}]`, `a content block of type ${JSON.stringify(typeof b === "object" && b !== null ? b.type : typeof b)}`);
    })
    .join("");
}
