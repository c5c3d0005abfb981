import { Hono } from "hono";
import type { ChatCompletionChunk } from "openai/resources/chat/completions";
import type { ChatBody } from "../../model/client.js";
import type { GatewayDeps } from "../_deps.js";
import { badRequest, errorResponse, optBool, optString, readJson } from "../_http.js";
import { streamEvents } from "../_sse.js";
import { targetOf } from "../_target.js";
import type { TurnResult } from "../_turn.js";
import { fromChatMessage, newTrailing } from "./_messages.js";

// Request fields passed upstream as they are; the rest (model, stream, n, user…) are the gateway's.
const PASS_THROUGH = [
  "tools",
  "tool_choice",
  "parallel_tool_calls",
  "temperature",
  "top_p",
  "max_tokens",
  "max_completion_tokens",
  "stop",
  "presence_penalty",
  "frequency_penalty",
  "seed",
  "response_format",
  "logit_bias",
  "reasoning_effort",
] as const;

/** Picks the upstream options of a chat-completions or responses body. */
export function upstreamOptions(body: Record<string, unknown>): Omit<ChatBody, "messages"> {
  const out: Record<string, unknown> = {};
  for (const k of PASS_THROUGH) if (body[k] !== undefined && body[k] !== null) out[k] = body[k];
  return out as Omit<ChatBody, "messages">;
}

/**
 * `POST /v1/chat/completions`. With a session named by headers, only the
 * trailing new user/tool messages are recorded and the model gets the
 * session's managed context; the request's system/developer messages are
 * handled by `gateway.clientSystemPrompt` (default "apply": sent for this
 * turn after the session's system prompts, counted in the budget, not
 * stored). Without a session, the request is passed through statelessly.
 * Streaming and not, usage chunk on request, tool calls.
 */
export function chatRouter(deps: GatewayDeps): Hono {
  const app = new Hono();
  app.post("/chat/completions", async (c) => {
    try {
      const body = await readJson(c, deps.maxBodyBytes);
      if (!Array.isArray(body.messages) || body.messages.length === 0) throw badRequest("messages must be a non-empty array");
      if (body.n !== undefined && body.n !== null && body.n !== 1) throw badRequest("n must be 1: one reply is recorded per turn");
      const stream = optBool(body, "stream") ?? false;
      const opts = body.stream_options as { include_usage?: unknown } | undefined;
      const includeUsage = stream && opts?.include_usage === true;
      const requested = optString(body, "model") ?? deps.model?.model ?? "openclaw";
      const { target, sender } = targetOf(c);
      const messages = body.messages.map((m, i) => fromChatMessage(m, i, sender));
      const policy = deps.manager.config.gateway.clientSystemPrompt;
      const system = target === undefined ? [] : messages.filter((m) => m.role === "system" && m.content.trim() !== "");
      if (system.length > 0 && policy === "refuse") throw badRequest('system and developer messages are refused here (gateway.clientSystemPrompt is "refuse"): the session\'s own system prompt applies');
      const clientSystem = system.map((m) => m.content).join("\n\n");
      const input = target === undefined ? messages : newTrailing(messages.filter((m) => m.role !== "system"));
      if (target !== undefined && input.length === 0) throw badRequest("messages must end with the new user (or tool) message(s) of this turn");
      const idem = c.req.header("idempotency-key");
      if (idem !== undefined && target !== undefined) input.forEach((m, i) => (m.clientMessageId = `${idem.slice(0, 200)}#${i}`));
      const abort = new AbortController();
      // The request's own signal fires when the client goes away, streaming or not: its turn then does not ask the model.
      const signal = AbortSignal.any([abort.signal, c.req.raw.signal, deps.shutdown]);
      // The session is settled before the response starts, so its errors keep their status and its id goes in a header.
      const id = target === undefined ? undefined : await deps.turns.sessionOf(target, input, signal);
      const headers: Record<string, string> = id === undefined ? {} : { "x-openclaw-session-id": id };
      // "store": the client's system text becomes the session's system prompt (once, when it changed).
      if (id !== undefined && clientSystem !== "" && policy === "store") {
        const current = (await deps.manager.get(id, { signal })).systemPrompts.map((p) => p.content).join("\n\n");
        if (current !== clientSystem) await deps.manager.setSystemPrompt(id, clientSystem);
      }
      const instructions = policy === "apply" && clientSystem !== "" ? clientSystem : undefined;
      const via = target !== undefined && "inbound" in target ? { via: target.inbound } : {};
      const request = { target: id === undefined ? undefined : { ref: id, ...via }, input, options: upstreamOptions(body), instructions, signal, route: "/v1/chat/completions" };
      const created = Math.floor(Date.now() / 1000);
      if (!stream) {
        const r = await deps.turns.run(request);
        // After /new or /reset the key's fresh session is the one to name.
        if (r.session !== undefined) headers["x-openclaw-session-id"] = r.session.id;
        for (const [k, v] of Object.entries(headers)) c.header(k, v);
        return c.json(completion(r, requested, created));
      }
      return streamEvents(
        c,
        abort,
        async (sse) => {
          let chatId: string | undefined;
          const r = await deps.turns.run({
            ...request,
            onChunk: async (chunk: ChatCompletionChunk) => {
              chatId ??= `chatcmpl-${chunk.id}`;
              if (chunk.choices.length === 0 && !includeUsage) return;
              const { usage, ...rest } = chunk;
              await sse.send({ ...rest, id: chatId, model: requested, ...(includeUsage ? { usage: usage ?? null } : {}) });
            },
          });
          // A retry answered from the store streamed nothing: the stored reply is sent as a stream of its own.
          if (chatId === undefined) for (const chunk of replayChunks(r, requested, created, includeUsage)) await sse.send(chunk);
        },
        { done: "[DONE]", headers },
      );
    } catch (err) {
      return errorResponse(c, err);
    }
  });
  return app;
}

function completion(r: TurnResult, model: string, created: number): Record<string, unknown> {
  const calls = r.reply.toolCalls.map((t) => ({ id: t.id, type: "function", function: { name: t.name, arguments: t.arguments } }));
  return {
    id: `chatcmpl-${r.reply.id}`,
    object: "chat.completion",
    created,
    model,
    choices: [
      {
        index: 0,
        message: { role: "assistant", content: r.reply.content === "" && calls.length > 0 ? null : r.reply.content, refusal: null, ...(calls.length > 0 ? { tool_calls: calls } : {}) },
        finish_reason: r.finishReason,
        logprobs: null,
      },
    ],
    usage: r.usage ?? { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
  };
}

/** The chunks a stored reply would have streamed as: role, content, tool calls, finish, and usage when asked. */
function replayChunks(r: TurnResult, model: string, created: number, includeUsage: boolean): Record<string, unknown>[] {
  const frame = { id: `chatcmpl-${r.reply.id}`, object: "chat.completion.chunk", created, model };
  const usage = includeUsage ? { usage: null } : {};
  const chunk = (delta: Record<string, unknown>, finish: string | null) => ({ ...frame, choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }], ...usage });
  const calls = r.reply.toolCalls.map((t, index) => ({ index, id: t.id, type: "function", function: { name: t.name, arguments: t.arguments } }));
  return [
    chunk({ role: "assistant", content: "" }, null),
    ...(r.reply.content === "" ? [] : [chunk({ content: r.reply.content }, null)]),
    ...(calls.length > 0 ? [chunk({ tool_calls: calls }, null)] : []),
    chunk({}, r.finishReason),
    ...(includeUsage ? [{ ...frame, choices: [], usage: r.usage ?? { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 } }] : []),
  ];
}
