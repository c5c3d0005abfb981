import type { ChatCompletionFunctionTool, ChatCompletionToolChoiceOption } from "openai/resources/chat/completions";
import type { ChatBody } from "../../model/client.js";
import type { JsonValue } from "../../session/types.js";
import { badRequest } from "../_http.js";

/** A function tool in the Responses shape, as echoed back in a Response. */
export interface ResponsesFunctionTool {
  type: "function";
  name: string;
  description: string | null;
  parameters: Record<string, unknown> | null;
  strict: boolean | null;
}

/** What a Responses request asks of the model: the upstream (chat-completions) options, and the settings a Response echoes. */
export interface ResponsesOptions {
  upstream: Omit<ChatBody, "messages">;
  echo: {
    tools: ResponsesFunctionTool[];
    tool_choice: unknown;
    parallel_tool_calls: boolean;
    temperature: number | null;
    top_p: number | null;
    max_output_tokens: number | null;
    text: unknown;
    metadata: Record<string, string>;
  };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Translates the Responses request fields into chat-completions options for
 * the upstream, which only speaks chat completions. `reasoning`,
 * `truncation`, `include`, `service_tier` and `user` are ignored: the model
 * is the gateway's configured one (the Agents SDK sends reasoning defaults
 * for gpt-5 names that a non-reasoning upstream would refuse), and the
 * session manager, not the request, decides what fits the window.
 */
export function responsesOptions(body: Record<string, unknown>): ResponsesOptions {
  if (body.background === true) throw badRequest("background responses are not supported by this gateway");
  if (body.prompt !== undefined && body.prompt !== null) throw badRequest("prompt templates are not supported by this gateway; send instructions and input");
  const upstream: Omit<ChatBody, "messages"> = {};
  const tools = toolsOf(body.tools);
  if (tools.length > 0) upstream.tools = tools.map(chatTool);
  const choice = body.tool_choice ?? undefined;
  const chatChoice = choice === undefined ? undefined : chatToolChoice(choice);
  // Upstreams refuse a tool_choice without tools (the Agents SDK may send one with none).
  if (chatChoice !== undefined && tools.length > 0) upstream.tool_choice = chatChoice;
  const parallel = optional(body, "parallel_tool_calls", "boolean");
  if (parallel !== undefined && tools.length > 0) upstream.parallel_tool_calls = parallel;
  const temperature = optional(body, "temperature", "number");
  if (temperature !== undefined) upstream.temperature = temperature;
  const topP = optional(body, "top_p", "number");
  if (topP !== undefined) upstream.top_p = topP;
  const maxOutput = optional(body, "max_output_tokens", "number");
  if (maxOutput !== undefined) upstream.max_completion_tokens = maxOutput;
  const format = responseFormat(body.text);
  if (format !== undefined) upstream.response_format = format;
  return {
    upstream,
    echo: {
      tools,
      tool_choice: choice ?? "auto",
      parallel_tool_calls: parallel ?? true,
      temperature: temperature ?? null,
      top_p: topP ?? null,
      max_output_tokens: maxOutput ?? null,
      text: isObject(body.text) ? body.text : { format: { type: "text" } },
      metadata: metadataOf(body.metadata, "metadata") ?? {},
    },
  };
}

function optional<K extends "boolean" | "number">(body: Record<string, unknown>, name: string, kind: K): (K extends "boolean" ? boolean : number) | undefined {
  const v = body[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== kind) throw badRequest(`${name} must be a ${kind}`);
  return v as K extends "boolean" ? boolean : number;
}

function toolsOf(raw: unknown): ResponsesFunctionTool[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw badRequest("tools must be an array");
  return raw.map((t: unknown, i) => {
    if (!isObject(t)) throw badRequest(`tools[${i}] must be an object`);
    if (t.type !== "function") throw badRequest(`tools[${i}]: only function tools are supported, got ${JSON.stringify(t.type)}`);
    if (typeof t.name !== "string" || t.name === "") throw badRequest(`tools[${i}] needs a name`);
    if (t.parameters !== undefined && t.parameters !== null && !isObject(t.parameters)) throw badRequest(`tools[${i}].parameters must be a JSON schema object`);
    return {
      type: "function",
      name: t.name,
      description: typeof t.description === "string" ? t.description : null,
      parameters: isObject(t.parameters) ? t.parameters : null,
      strict: typeof t.strict === "boolean" ? t.strict : null,
    };
  });
}

function chatTool(t: ResponsesFunctionTool): ChatCompletionFunctionTool {
  return {
    type: "function",
    function: {
      name: t.name,
      ...(t.description !== null ? { description: t.description } : {}),
      ...(t.parameters !== null ? { parameters: t.parameters } : {}),
      ...(t.strict !== null ? { strict: t.strict } : {}),
    },
  };
}

function chatToolChoice(raw: unknown): ChatCompletionToolChoiceOption {
  if (raw === "auto" || raw === "none" || raw === "required") return raw;
  if (isObject(raw) && raw.type === "function" && typeof raw.name === "string") return { type: "function", function: { name: raw.name } };
  if (isObject(raw) && raw.type === "allowed_tools" && (raw.mode === "auto" || raw.mode === "required") && Array.isArray(raw.tools)) {
    const tools = raw.tools.map((t: unknown, i) => {
      if (!isObject(t) || t.type !== "function" || typeof t.name !== "string") throw badRequest(`tool_choice.tools[${i}] must be {type: "function", name}`);
      return { type: "function", function: { name: t.name } };
    });
    return { type: "allowed_tools", allowed_tools: { mode: raw.mode, tools } };
  }
  throw badRequest('tool_choice must be "auto", "none", "required", {type: "function", name} or {type: "allowed_tools", …} of functions');
}

function responseFormat(raw: unknown): ChatBody["response_format"] | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!isObject(raw)) throw badRequest("text must be an object");
  const f = raw.format;
  if (f === undefined || f === null) return undefined;
  if (!isObject(f)) throw badRequest("text.format must be an object");
  if (f.type === "text") return undefined;
  if (f.type === "json_object") return { type: "json_object" };
  if (f.type === "json_schema" && typeof f.name === "string" && isObject(f.schema)) {
    return {
      type: "json_schema",
      json_schema: {
        name: f.name,
        schema: f.schema,
        ...(typeof f.description === "string" ? { description: f.description } : {}),
        ...(typeof f.strict === "boolean" ? { strict: f.strict } : {}),
      },
    };
  }
  throw badRequest('text.format must be {type: "text"}, {type: "json_object"} or {type: "json_schema", name, schema}');
}

/**
 * Checks OpenAI metadata: at most 16 string values, keys up to 64 and values
 * up to 512 characters. Undefined when absent; an empty object clears.
 */
export function metadataOf(raw: unknown, where: string): Record<string, string> | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!isObject(raw)) throw badRequest(`${where} must be an object of strings`);
  const entries = Object.entries(raw);
  if (entries.length > 16) throw badRequest(`${where} has ${entries.length} keys; at most 16 are allowed`);
  for (const [k, v] of entries) {
    if (k.length > 64) throw badRequest(`${where}: key ${JSON.stringify(k.slice(0, 70))} is over 64 characters`);
    if (typeof v !== "string" || v.length > 512) throw badRequest(`${where}.${k} must be a string of at most 512 characters`);
  }
  return Object.fromEntries(entries) as Record<string, string>;
}

/** Metadata read back from a session preference (anything else there is shown as none). */
export function storedMetadata(value: JsonValue | undefined): Record<string, string> {
  if (!isObject(value)) return {};
  return Object.fromEntries(Object.entries(value).filter((e): e is [string, string] => typeof e[1] === "string"));
}
