import type { NewMessage } from "../../manager/_message.js";
import type { Message, ToolCall } from "../../session/types.js";
import { badRequest } from "../_http.js";
import { textOf } from "./_messages.js";
import { callItemId, messageItemId, outputItemId } from "./_ids.js";

/** A text part of a message item. */
export type TextPart = { type: "input_text"; text: string } | { type: "output_text"; text: string; annotations: never[]; logprobs: never[] };

/** A message item as the Responses and Conversations APIs show it. */
export interface MessageItem {
  type: "message";
  id: string;
  status: "completed" | "incomplete" | "in_progress";
  role: "user" | "system" | "assistant";
  content: TextPart[];
}

/** A function call the assistant asked for. */
export interface FunctionCallItem {
  type: "function_call";
  id: string;
  call_id: string;
  name: string;
  arguments: string;
  status: "completed" | "incomplete" | "in_progress";
}

/** The result of a function call, as the client sent it. */
export interface FunctionCallOutputItem {
  type: "function_call_output";
  id: string;
  call_id: string;
  output: string;
  status: "completed";
}

/** One item of a conversation or of a response's output. */
export type Item = MessageItem | FunctionCallItem | FunctionCallOutputItem;

/** The output_text part of assistant text. */
export function outputText(text: string): TextPart {
  return { type: "output_text", text, annotations: [], logprobs: [] };
}

/** The assistant message item of a reply's text. */
export function assistantItem(messageId: string, text: string, status: MessageItem["status"] = "completed"): MessageItem {
  return { type: "message", id: messageItemId(messageId), status, role: "assistant", content: [outputText(text)] };
}

/** The function_call item of call number `index` of an assistant message. */
export function callItem(messageId: string, index: number, call: ToolCall, status: FunctionCallItem["status"] = "completed"): FunctionCallItem {
  return { type: "function_call", id: callItemId(messageId, index), call_id: call.id, name: call.name, arguments: call.arguments, status };
}

/**
 * The items one stored message shows as: user and system text → a message
 * item; an assistant message → its text as a message item (left out when it
 * is empty and there are calls) and one function_call item per call; a tool
 * message → a function_call_output item. Ids derive from the message id, so
 * they stay the same on every read.
 */
export function itemsOf(m: Message): Item[] {
  switch (m.role) {
    case "user":
    case "system":
      return [{ type: "message", id: messageItemId(m.id), status: "completed", role: m.role, content: [{ type: "input_text", text: m.content }] }];
    case "assistant": {
      const calls = m.toolCalls ?? [];
      const text: Item[] = m.content !== "" || calls.length === 0 ? [assistantItem(m.id, m.content)] : [];
      return [...text, ...calls.map((c, i) => callItem(m.id, i, c))];
    }
    case "tool":
      return [{ type: "function_call_output", id: outputItemId(m.id), call_id: m.toolCallId ?? "", output: m.content, status: "completed" }];
  }
}

// Item types a client may send that carry nothing this gateway can record:
// references to items the session already holds, and reasoning it never produced.
const SKIPPED = new Set(["item_reference", "reasoning"]);

/**
 * Responses input items (or Conversations items) as messages to record, in
 * order. A client's assistant message and the function_call items right
 * after it become one assistant message with tool calls, the way the
 * session stores a reply (so the ids it gets back match what a reply would
 * have). Text-only content; other item types are refused.
 */
export function fromItems(raw: unknown, where: string): NewMessage[] {
  if (typeof raw === "string") return [{ role: "user", content: raw, sender: null }];
  if (!Array.isArray(raw)) throw badRequest(`${where} must be a string or an array of items`);
  const out: NewMessage[] = [];
  // The assistant message function_call items attach to, while they follow it directly.
  let open: NewMessage | undefined;
  raw.forEach((value: unknown, i) => {
    const at = `${where}[${i}]`;
    if (typeof value !== "object" || value === null || Array.isArray(value)) throw badRequest(`${at} must be an object`);
    const item = value as Record<string, unknown>;
    const type = item.type ?? "message";
    if (typeof type === "string" && SKIPPED.has(type)) return;
    if (type === "function_call") {
      const call = functionCall(item, at);
      if (open === undefined) {
        open = { role: "assistant", content: "", sender: null, toolCalls: [] };
        out.push(open);
      }
      open.toolCalls = [...(open.toolCalls ?? []), call];
      return;
    }
    open = undefined;
    if (type === "function_call_output") {
      if (typeof item.call_id !== "string" || item.call_id === "") throw badRequest(`${at}: a function_call_output needs call_id`);
      const output = typeof item.output === "string" ? item.output : textOf(item.output, at);
      out.push({ role: "tool", content: output, sender: null, toolCallId: item.call_id });
      return;
    }
    if (type !== "message") throw badRequest(`${at}: item type ${JSON.stringify(type)} is not supported; send messages, function_call and function_call_output items`);
    const text = textOf(item.content, at);
    switch (item.role) {
      case "user":
        out.push({ role: "user", content: text, sender: null });
        return;
      case "system":
      case "developer":
        out.push({ role: "system", content: text, sender: null });
        return;
      case "assistant":
        open = { role: "assistant", content: text, sender: null };
        out.push(open);
        return;
      default:
        throw badRequest(`${at}.role must be user, system, developer or assistant, got ${JSON.stringify(item.role)}`);
    }
  });
  return out;
}

function functionCall(item: Record<string, unknown>, at: string): ToolCall {
  if (typeof item.call_id !== "string" || item.call_id === "" || typeof item.name !== "string" || item.name === "") {
    throw badRequest(`${at}: a function_call needs call_id and name`);
  }
  if (item.arguments !== undefined && typeof item.arguments !== "string") throw badRequest(`${at}.arguments must be a string of JSON`);
  return { id: item.call_id, name: item.name, arguments: typeof item.arguments === "string" ? item.arguments : "{}" };
}
