import assert from "node:assert/strict";
import { after, before, beforeEach } from "node:test";
import { createServer, type IncomingHttpHeaders, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** One request the fake server received. */
export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** Date.now() when the request had been read. */
  at: number;
}

/**
 * How the fake answers one request: `hang` never answers; `stall` sends a
 * 200 JSON head and half a body, then nothing more; `stall-stream` sends an
 * SSE head and one chunk, then nothing more.
 */
export type Reply = { status: number; body: string; headers?: Record<string, string> } | "hang" | "stall" | "stall-stream";

/** A local OpenAI-compatible endpoint on 127.0.0.1 (port 0) whose replies a test scripts in order. */
export interface FakeOpenAI {
  baseUrl: string;
  requests: SeenRequest[];
  /** TCP connections accepted since the server started. */
  readonly connections: number;
  /** Replies for the next requests, in order; the last one repeats. */
  script(...replies: Reply[]): void;
  close(): Promise<void>;
}

/** A chat-completions success body carrying `content`. */
export function completion(content: unknown): string {
  return JSON.stringify({ id: "x", object: "chat.completion", created: 1, model: "m", choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop" }] });
}

/** A streamed (SSE) success reply: one chunk per word of `text`, then a usage chunk and [DONE]. */
export function streamed(text: string, usage = { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 }): Reply {
  const chunk = (choices: unknown[], extra: object = {}) => ({ id: "s", object: "chat.completion.chunk", created: 1, model: "m", choices, ...extra });
  const events = [
    chunk([{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }]),
    ...text.split(/(?<= )/).map((w) => chunk([{ index: 0, delta: { content: w }, finish_reason: null }])),
    chunk([{ index: 0, delta: {}, finish_reason: "stop" }]),
    chunk([], { usage }),
  ];
  return { status: 200, headers: { "content-type": "text/event-stream" }, body: `${events.map((e) => `data: ${JSON.stringify(e)}\n\n`).join("")}data: [DONE]\n\n` };
}

/** Starts the fake server. */
export async function startFakeOpenAI(): Promise<FakeOpenAI> {
  const requests: SeenRequest[] = [];
  let replies: Reply[] = [{ status: 200, body: completion("ok") }];
  const hanging = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      requests.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks).toString("utf8"), at: Date.now() });
      const reply = replies.length > 1 ? replies.shift() : replies[0];
      if (reply === undefined || reply === "hang" || reply === "stall" || reply === "stall-stream") {
        hanging.add(res);
        if (reply === "stall") {
          res.writeHead(200, { "content-type": "application/json" });
          res.write('{"id":"x","choices":[');
        }
        if (reply === "stall-stream") {
          res.writeHead(200, { "content-type": "text/event-stream" });
          res.write(`data: ${JSON.stringify({ id: "s", object: "chat.completion.chunk", created: 1, model: "m", choices: [{ index: 0, delta: { role: "assistant", content: "first" }, finish_reason: null }] })}\n\n`);
        }
        return;
      }
      res.writeHead(reply.status, { "content-type": "application/json", ...reply.headers });
      res.end(reply.body);
    });
  });
  let connections = 0;
  server.on("connection", () => connections++);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    get connections() {
      return connections;
    },
    script: (...next) => {
      replies = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hanging) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * The fake endpoint for the tests of the calling suite: started before them,
 * its request log emptied before each, closed after them. The returned object
 * stands for the running server.
 */
export function useFakeOpenAI(): FakeOpenAI {
  let server: FakeOpenAI | undefined;
  const current = (): FakeOpenAI => server ?? assert.fail("the fake OpenAI server is used outside its suite's tests");
  before(async () => {
    server = await startFakeOpenAI();
  });
  after(async () => {
    await server?.close();
  });
  beforeEach(() => {
    current().requests.length = 0;
  });
  return {
    get baseUrl() {
      return current().baseUrl;
    },
    get requests() {
      return current().requests;
    },
    get connections() {
      return current().connections;
    },
    script: (...replies) => current().script(...replies),
    close: () => current().close(),
  };
}
