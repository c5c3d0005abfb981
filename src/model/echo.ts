import { randomUUID } from "node:crypto";
import type { ChatCompletion, ChatCompletionChunk, ChatCompletionMessageParam } from "openai/resources/chat/completions";
import type { ChatBody, ModelClient } from "./client.js";

/** Longest part of the user's message quoted back. */
const QUOTE_CHARS = 120;

/** The text of a message's content, whichever shape it has (string, or parts of which the text ones count). */
function textOf(content: ChatCompletionMessageParam["content"]): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content.map((p) => ("text" in p && typeof p.text === "string" ? p.text : "")).join("");
}

/** How the echo model counts tokens for its usage figures (the caller's estimate: this layer has no tokenizer). */
export interface EchoTokenCount {
  /** Tokens of a text. */
  text: (text: string) => number;
  /** Tokens each message adds beyond its text. */
  perMessage: number;
}

/** The reply and its usage for `messages`: no network, no randomness beyond the ids. */
function answer(messages: readonly ChatCompletionMessageParam[], count: EchoTokenCount): { content: string; usage: ChatCompletion["usage"] & object } {
  const last = [...messages].reverse().find((m) => m.role === "user");
  const said = textOf(last?.content ?? "")
    .replace(/\s+/g, " ")
    .trim();
  const quote = said.length > QUOTE_CHARS ? `${said.slice(0, QUOTE_CHARS)}…` : said;
  const prompt = messages.reduce((n, m) => n + count.perMessage + count.text(textOf(m.content ?? "")), 0);
  const content = `echo: ${quote === "" ? "(no user message)" : quote} [context: ${messages.length} message${messages.length === 1 ? "" : "s"}, ~${prompt} tokens; built-in echo model, not for production]`;
  const completion = count.text(content);
  return { content, usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion } };
}

/**
 * The built-in offline model (`gateway.model.provider: "echo"`): answers at
 * once with the last user message and the context's size, and fills in
 * usage, so the gateway and dashboard can be tried without an upstream.
 * Tool definitions are ignored; it never calls a tool.
 */
export function createEchoModel(count: EchoTokenCount, name = "echo"): ModelClient {
  const created = () => Math.floor(Date.now() / 1000);
  return {
    model: name,
    async complete(body: ChatBody, signal?: AbortSignal, model?: string): Promise<ChatCompletion> {
      signal?.throwIfAborted();
      const { content, usage } = answer(body.messages, count);
      return {
        id: `chatcmpl-${randomUUID()}`,
        object: "chat.completion",
        created: created(),
        model: model ?? name,
        choices: [{ index: 0, message: { role: "assistant", content, refusal: null }, finish_reason: "stop", logprobs: null }],
        usage,
      };
    },
    async stream(body: ChatBody, signal?: AbortSignal, model?: string): Promise<AsyncIterable<ChatCompletionChunk>> {
      signal?.throwIfAborted();
      const { content, usage } = answer(body.messages, count);
      const frame = { id: `chatcmpl-${randomUUID()}`, object: "chat.completion.chunk" as const, created: created(), model: model ?? name };
      // A few pieces, cut at spaces, so clients see a real stream.
      const pieces = content.match(/\S+\s*/g) ?? [content];
      return (async function* () {
        yield { ...frame, choices: [{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }] };
        for (const piece of pieces) {
          signal?.throwIfAborted();
          yield { ...frame, choices: [{ index: 0, delta: { content: piece }, finish_reason: null }] };
        }
        yield { ...frame, choices: [{ index: 0, delta: {}, finish_reason: "stop" }] };
        yield { ...frame, choices: [], usage };
      })();
    },
  };
}
