import type { AgentInputItem } from "@openai/agents-core";
import type { ChatMessage } from "../../context/build.js";
import type { NewMessage } from "../../manager/_message.js";
import { OpenclawError } from "../../errors.js";
import type { Message, ToolCall } from "../../session/types.js";
import { clientIdOfCall, clientIdOfOriginal, clientIdOfResult, type ContextEntry } from "../_managed.js";

type FunctionCall = Extract<AgentInputItem, { type: "function_call" }>;
type FunctionResult = Extract<AgentInputItem, { type: "function_call_result" }>;

// The Chat Completions model of the SDK gives every streamed item this placeholder id:
// it names no item, so it must never stand for one.
const PLACEHOLDER_ID = "FAKE_ID";
// Items that carry nothing a later model call needs from this store.
const SKIPPED = new Set(["reasoning"]);

const refuse = (at: string, what: string): OpenclawError =>
  new OpenclawError("INVALID_ARGUMENT", `${at}: ${what} cannot be stored in an openclaw session (text messages, function calls and their results only); nothing was recorded`);

/**
 * Agents SDK items as messages to record, in order. An assistant message and
 * the function_call items right after it become one assistant message with
 * tool calls (as a reply with calls is stored), so calls and their results
 * move together through pruning. Client message ids come from item ids and
 * call ids, so adding the same items again stores nothing twice.
 */
export function messagesOfItems(items: readonly AgentInputItem[], sender: string | null): NewMessage[] {
  const out: NewMessage[] = [];
  let open: NewMessage | undefined;
  items.forEach((item, i) => {
    const at = `items[${i}]`;
    if (item.type !== undefined && SKIPPED.has(item.type)) return;
    if (item.type === "function_call") {
      const call: ToolCall = { id: item.callId, name: item.name, arguments: item.arguments };
      if (open === undefined) {
        open = { role: "assistant", content: "", sender: null, toolCalls: [], ...withClientId(clientIdOfCall(item.callId)) };
        out.push(open);
      }
      open.toolCalls = [...(open.toolCalls ?? []), call];
      return;
    }
    open = undefined;
    if (item.type === "function_call_result") {
      out.push({ role: "tool", content: outputText(item.output, at), sender: null, toolCallId: item.callId, ...withClientId(clientIdOfResult(item.callId)) });
      return;
    }
    if (!("role" in item) || (item.type !== undefined && item.type !== "message")) throw refuse(at, `an item of type ${JSON.stringify(item.type)}`);
    const clientId = withClientId(clientIdOfOriginal(item.id === PLACEHOLDER_ID ? undefined : item.id));
    switch (item.role) {
      case "user":
        out.push({ role: "user", content: userText(item.content, at), sender, ...clientId });
        return;
      case "system":
        out.push({ role: "system", content: item.content, sender: null, ...clientId });
        return;
      case "assistant":
        open = { role: "assistant", content: assistantText(item.content, at), sender: null, ...clientId };
        out.push(open);
        return;
    }
  });
  return out;
}

/**
 * The context as SDK items: system prompts and the summary note as system
 * messages, then the history. An assistant message shows as its text (left
 * out when empty and there are calls) and one function_call per call; a tool
 * message as the function_call_result of its call.
 */
export function itemsOfContext(entries: readonly ContextEntry[]): AgentInputItem[] {
  const names = new Map<string, string>();
  for (const { chat } of entries) for (const c of chat.tool_calls ?? []) names.set(c.id, c.function.name);
  return entries.flatMap(({ chat, originalId }) => itemsOfChat(chat, originalId, (id) => names.get(id) ?? ""));
}

/** The items one stored message shows as (the calls' names are looked up for a tool message). */
export function itemsOfMessage(m: Message, originalId: string | undefined, nameOf: (callId: string) => string): AgentInputItem[] {
  const chat: ChatMessage = { role: m.role, content: m.content };
  if (m.toolCalls !== undefined && m.toolCalls.length > 0) chat.tool_calls = m.toolCalls.map((c) => ({ id: c.id, type: "function", function: { name: c.name, arguments: c.arguments } }));
  if (m.toolCallId !== undefined) chat.tool_call_id = m.toolCallId;
  return itemsOfChat(chat, originalId, nameOf);
}

function itemsOfChat(chat: ChatMessage, originalId: string | undefined, nameOf: (callId: string) => string): AgentInputItem[] {
  const id = originalId === undefined ? {} : { id: originalId };
  switch (chat.role) {
    case "system":
      return [{ type: "message", role: "system", content: chat.content, ...id }];
    case "user":
      return [{ type: "message", role: "user", content: chat.content, ...id }];
    case "assistant": {
      const calls = chat.tool_calls ?? [];
      const text: AgentInputItem[] = chat.content !== "" || calls.length === 0 ? [{ type: "message", role: "assistant", status: "completed", content: [{ type: "output_text", text: chat.content }], ...id }] : [];
      const items: FunctionCall[] = calls.map((c) => ({ type: "function_call", callId: c.id, name: c.function.name, arguments: c.function.arguments, status: "completed" }));
      return [...text, ...items];
    }
    case "tool": {
      const callId = chat.tool_call_id ?? "";
      const result: FunctionResult = { type: "function_call_result", callId, name: nameOf(callId), status: "completed", output: { type: "text", text: chat.content } };
      return [result];
    }
  }
}

function withClientId(clientId: string | undefined): { clientMessageId?: string } {
  return clientId === undefined ? {} : { clientMessageId: clientId };
}

function userText(content: Extract<AgentInputItem, { role: "user" }>["content"], at: string): string {
  if (typeof content === "string") return content;
  return content
    .map((part, j) => {
      if (part.type === "input_text") return part.text;
      throw refuse(`${at}.content[${j}]`, `a part of type ${JSON.stringify(part.type)}`);
    })
    .join("");
}

function assistantText(content: Extract<AgentInputItem, { role: "assistant" }>["content"], at: string): string {
  return content
    .map((part, j) => {
      if (part.type === "output_text") return part.text;
      if (part.type === "refusal") return part.refusal;
      throw refuse(`${at}.content[${j}]`, `a part of type ${JSON.stringify(part.type)}`);
    })
    .join("");
}

function outputText(output: FunctionResult["output"], at: string): string {
  if (typeof output === "string") return output;
  const parts = Array.isArray(output) ? output : [output];
  return parts
    .map((part, j) => {
      if (part.type === "text" || part.type === "input_text") return part.text;
      throw refuse(`${at}.output${Array.isArray(output) ? `[${j}]` : ""}`, `a tool output of type ${JSON.stringify(part.type)}`);
    })
    .join("");
}
