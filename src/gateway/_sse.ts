import type { Context } from "hono";
import { describeError, errorResponse } from "./_http.js";

/** Writes server-sent events onto a response that is sent only once the first event is ready. */
export interface SseWriter {
  /** Sends one `data:` event (JSON unless a string is given); false once the client has gone. */
  send(data: unknown, event?: string): Promise<boolean>;
}

const encoder = new TextEncoder();

/**
 * Streams `produce`'s events as SSE. The response starts with the first
 * event, so a failure before it (bad request, upstream down) is still an
 * ordinary JSON error with its status; a failure after it is sent as a
 * final `data: {"error": …}` event, the way OpenAI's streams end on error.
 * `abort` is fired when the client disconnects.
 */
export async function streamEvents(c: Context, abort: AbortController, produce: (sse: SseWriter) => Promise<void>, options: { done?: string; headers?: Record<string, string> } = {}): Promise<Response> {
  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
  const writer = writable.getWriter();
  let started = false;
  let gone = false;
  let markStarted!: () => void;
  const first = new Promise<void>((resolve) => (markStarted = resolve));
  const onGone = () => {
    gone = true;
    abort.abort(new Error("the client disconnected"));
  };
  c.req.raw.signal.addEventListener("abort", onGone, { once: true });
  const sse: SseWriter = {
    async send(data, event) {
      if (gone) return false;
      started = true;
      markStarted();
      const text = `${event !== undefined ? `event: ${event}\n` : ""}data: ${typeof data === "string" ? data : JSON.stringify(data)}\n\n`;
      try {
        await writer.write(encoder.encode(text));
        return true;
      } catch {
        onGone();
        return false;
      }
    },
  };
  const run = produce(sse).then(
    async () => {
      if (options.done !== undefined) await sse.send(options.done);
      markStarted();
    },
    async (err: unknown) => {
      if (!started) throw err;
      const { type, code, message } = describeError(c, err);
      await sse.send({ error: { message, type, code, param: null } });
    },
  );
  const finished = run.finally(async () => {
    c.req.raw.signal.removeEventListener("abort", onGone);
    await writer.close().catch(() => undefined);
  });
  try {
    await Promise.race([first, finished]);
  } catch (err) {
    return errorResponse(c, err);
  }
  if (!started) {
    // Nothing was ever sent and it ended: propagate a failure, else an empty stream.
    try {
      await finished;
    } catch (err) {
      return errorResponse(c, err);
    }
  }
  finished.catch(() => undefined);
  return new Response(readable, {
    status: 200,
    headers: { ...options.headers, "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", connection: "keep-alive", "x-accel-buffering": "no" },
  });
}
