import type { NewMessage } from "../../manager/_message.js";
import { badRequest } from "../_http.js";

/** The text of a chat message's content: a string, or an array of text parts (other parts are refused). */
export function textOf(content: unknown, where: string): string {
  if (content === undefined || content === null) return "";
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) throw badRequest(`${where}.content must be a string or an array of text parts`);
  return content
    .map((part: unknown, i) => {
      const p = part as { type?: unknown; text?: unknown };
      if (typeof p !== "object" || p === null) throw badRequest(`${where}.content[${i}] must be an object`);
      if ((p.type === "text" || p.type === "input_text" || p.type === "output_text") && typeof p.text === "string") return p.text;
      throw badRequest(`${where}.content[${i}]: only text parts are supported, got ${JSON.stringify(p.type)}`);
    })
    .join("");
}

/** One chat-completions message as a message to record. */
export function fromChatMessage(raw: unknown, i: number, sender: string | null): NewMessage {
  const where = `messages[${i}]`;
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw badRequest(`${where} must be an object`);
  const m = raw as Record<string, unknown>;
  const content = textOf(m.content, where);
  switch (m.role) {
    case "system":
    case "developer":
      return { role: "system", content };
    case "user":
      return { role: "user", content, sender };
    case "assistant": {
      const calls = m.tool_calls;
      if (calls !== undefined && calls !== null && !Array.isArray(calls)) throw badRequest(`${where}.tool_calls must be an array`);
      const toolCalls = (calls ?? []).map((c: unknown, j: number) => {
        const call = c as { id?: unknown; function?: { name?: unknown; arguments?: unknown } };
        if (typeof call?.id !== "string" || typeof call.function?.name !== "string") throw badRequest(`${where}.tool_calls[${j}] needs an id and function.name`);
        return { id: call.id, name: call.function.name, arguments: typeof call.function.arguments === "string" ? call.function.arguments : "{}" };
      });
      return { role: "assistant", content, sender: null, ...(toolCalls.length > 0 ? { toolCalls } : {}) };
    }
    case "tool":
      if (typeof m.tool_call_id !== "string" || m.tool_call_id === "") throw badRequest(`${where}: a tool message needs tool_call_id`);
      return { role: "tool", content, sender: null, toolCallId: m.tool_call_id };
    default:
      throw badRequest(`${where}.role must be system, developer, user, assistant or tool, got ${JSON.stringify(m.role)}`);
  }
}

/**
 * The messages a stateful request adds: the trailing user and tool messages
 * after the last assistant turn. Everything before them is the client's copy
 * of history the session already holds, and is not replayed.
 */
export function newTrailing(messages: readonly NewMessage[]): NewMessage[] {
  let start = messages.length;
  while (start > 0) {
    const role = messages[start - 1]?.role;
    if (role !== "user" && role !== "tool") break;
    start--;
  }
  return messages.slice(start);
}
