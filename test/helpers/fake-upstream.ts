import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** A chat-completions request the fake upstream received. */
export interface UpstreamRequest {
  body: {
    model: string;
    stream?: boolean;
    messages: Array<{ role: string; content: string | null; tool_calls?: Array<{ id: string; function: { name: string; arguments: string } }>; tool_call_id?: string }>;
    tools?: Array<{ type: string; function: { name: string } }>;
    [k: string]: unknown;
  };
  headers: IncomingMessage["headers"];
}

/** A local OpenAI-compatible model on 127.0.0.1 that answers deterministically. */
export interface FakeUpstream {
  /** Base URL ending in /v1. */
  baseUrl: string;
  requests: UpstreamRequest[];
  /** Milliseconds between streamed chunks (to test disconnects and concurrency). */
  chunkDelayMs: number;
  /** When set, every request fails with this HTTP status. */
  failWith: number | undefined;
  /** When set, names each response (`chatcmpl`) and tool call (`call`) instead of the default unique ids, as upstreams that reuse ids do. */
  ids: ((kind: "chatcmpl" | "call") => string) | undefined;
  /**
   * When set, replies stall: a streamed one after this many chunks, a
   * non-streamed one after its head and half its body. The response stays
   * open, sending nothing more, until the client gives up or close().
   */
  stallAfterChunks: number | undefined;
  /** Milliseconds a chat request waits before it is answered at all (a slow model), read when it arrives. */
  replyDelayMs: number;
  /** When true, replies carry no usage (as some upstreams send none). */
  omitUsage: boolean;
  close(): Promise<void>;
}

/**
 * Replies "echo: <last user text>" (streamed word by word when asked). When
 * the request offers tools and the last message is a user message containing
 * `CALL <tool> <json>`, it answers with that tool call instead; after a tool
 * result it replies "tool said: <result>". Usage counts words.
 */
export async function startFakeUpstream(): Promise<FakeUpstream> {
  const requests: UpstreamRequest[] = [];
  const open = new Set<ServerResponse>();
  const state: FakeUpstream = { baseUrl: "", requests, chunkDelayMs: 0, failWith: undefined, ids: undefined, stallAfterChunks: undefined, replyDelayMs: 0, omitUsage: false, close: async () => {} };
  // Pending slow replies, cut short on close so no timer outlives the server.
  const delays = new Set<() => void>();
  const pause = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        delays.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      delays.add(done);
    });
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      open.add(res);
      res.on("close", () => open.delete(res));
      void answer(req, res, Buffer.concat(chunks).toString("utf8"));
    });
  });
  const answer = async (req: IncomingMessage, res: ServerResponse, raw: string): Promise<void> => {
    if (req.method === "GET" && req.url?.endsWith("/models")) {
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ object: "list", data: [{ id: "fake-model", object: "model", created: 0, owned_by: "test" }] }));
      return;
    }
    if (req.method !== "POST" || !req.url?.endsWith("/chat/completions")) {
      res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ error: { message: "not found", type: "invalid_request_error" } }));
      return;
    }
    const body = JSON.parse(raw) as UpstreamRequest["body"];
    requests.push({ body, headers: req.headers });
    if (state.replyDelayMs > 0) {
      await pause(state.replyDelayMs);
      if (res.destroyed) return;
    }
    if (state.failWith !== undefined) {
      res.writeHead(state.failWith, { "content-type": "application/json" }).end(JSON.stringify({ error: { message: `upstream says ${state.failWith}`, type: "server_error" } }));
      return;
    }
    const last = body.messages[body.messages.length - 1];
    const lastText = typeof last?.content === "string" ? last.content : "";
    const call = last?.role === "user" && body.tools !== undefined ? /CALL (\S+) (\{.*\})/.exec(lastText) : null;
    const text = last?.role === "tool" ? `tool said: ${lastText}` : `echo: ${lastText}`;
    const prompt = body.messages.reduce(
      (n, m) =>
        n +
        String(m.content ?? "")
          .split(/\s+/)
          .filter(Boolean).length,
      0,
    );
    const words = text.split(" ");
    const usage = { prompt_tokens: prompt, completion_tokens: call ? 5 : words.length, total_tokens: prompt + (call ? 5 : words.length) };
    const id = state.ids?.("chatcmpl") ?? `up-${requests.length}`;
    const toolCall = call ? { id: state.ids?.("call") ?? `call_${requests.length}`, type: "function", function: { name: call[1] ?? "", arguments: call[2] ?? "{}" } } : undefined;
    const stall = state.stallAfterChunks;
    if (body.stream !== true) {
      const message = toolCall ? { role: "assistant", content: null, tool_calls: [toolCall] } : { role: "assistant", content: text };
      const json = JSON.stringify({
        id,
        object: "chat.completion",
        created: 1,
        model: body.model,
        choices: [{ index: 0, message, finish_reason: toolCall ? "tool_calls" : "stop" }],
        ...(state.omitUsage ? {} : { usage }),
      });
      if (stall !== undefined) res.writeHead(200, { "content-type": "application/json" }).write(json.slice(0, json.length >> 1));
      else res.writeHead(200, { "content-type": "application/json" }).end(json);
      return;
    }
    res.writeHead(200, { "content-type": "text/event-stream" });
    let sent = 0;
    const send = (obj: unknown) => {
      // Past the stall point nothing is written, and the response is never ended.
      if (stall !== undefined && sent >= stall) return;
      sent++;
      res.write(`data: ${JSON.stringify(obj)}\n\n`);
    };
    const chunk = (delta: unknown, finish: string | null) => ({ id, object: "chat.completion.chunk", created: 1, model: body.model, choices: [{ index: 0, delta, finish_reason: finish }] });
    send(chunk({ role: "assistant", content: "" }, null));
    if (toolCall) {
      send(chunk({ tool_calls: [{ index: 0, id: toolCall.id, type: "function", function: { name: toolCall.function.name, arguments: "" } }] }, null));
      send(chunk({ tool_calls: [{ index: 0, function: { arguments: toolCall.function.arguments } }] }, null));
      send(chunk({}, "tool_calls"));
    } else {
      for (let i = 0; i < words.length; i++) {
        if (state.chunkDelayMs > 0) await new Promise((r) => setTimeout(r, state.chunkDelayMs));
        if (res.destroyed) return;
        send(chunk({ content: (i === 0 ? "" : " ") + words[i] }, null));
      }
      send(chunk({}, "stop"));
    }
    if ((body.stream_options as { include_usage?: boolean } | undefined)?.include_usage && !state.omitUsage) send({ id, object: "chat.completion.chunk", created: 1, model: body.model, choices: [], usage });
    if (stall === undefined) res.end("data: [DONE]\n\n");
  };
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  state.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  state.close = () =>
    new Promise<void>((resolve) => {
      for (const res of open) res.destroy();
      for (const done of [...delays]) done();
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return state;
}
