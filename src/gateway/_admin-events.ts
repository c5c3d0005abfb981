import type { Context } from "hono";
import { OpenclawError } from "../errors.js";
import type { GatewayDeps } from "./_deps.js";
import type { EventLog, LoggedEvent } from "./_events.js";
import { badRequest } from "./_http.js";
import { intParam, queryOf } from "./_admin-params.js";

/** Seconds between keep-alive comments when `keepAlive` is not given: under the usual 30-60 s proxy idle timeouts. */
export const KEEP_ALIVE_S = 15;

// Bytes a client may leave unread before it is dropped; it reconnects with
// Last-Event-ID and catches up from the kept events instead of growing our memory.
const MAX_BACKLOG = 4 * 1_048_576;
// How long a browser's EventSource waits before reconnecting.
const RETRY_MS = 2000;

const encoder = new TextEncoder();

/** What a (re)connecting client is sent first. */
export type Opening = { kind: "fresh"; latest: number } | { kind: "resume"; events: LoggedEvent[] } | { kind: "reset"; latest: number; reason: string };

/**
 * Decides how a connection starts from the client's Last-Event-ID: nothing to
 * replay for a new client; the kept events after the id for a resuming one;
 * a reset when the id is older than what is kept, or unknown (newer than any
 * event issued: from an earlier gateway run, or made up).
 */
export function openingFor(log: Pick<EventLog, "latest" | "oldest" | "since">, lastId: number | undefined): Opening {
  const latest = log.latest;
  if (lastId === undefined) return { kind: "fresh", latest };
  if (lastId > latest) return { kind: "reset", latest, reason: `event ${lastId} is unknown to this gateway (it restarted, or the id is not one it sent): reload` };
  // With nothing kept, the next event would be latest + 1.
  const oldest = log.oldest === 0 ? latest + 1 : log.oldest;
  if (lastId < oldest - 1) return { kind: "reset", latest, reason: `events after ${lastId} are no longer kept (the oldest kept is ${oldest}): reload` };
  return { kind: "resume", events: log.since(lastId).events };
}

/** One SSE frame. */
function frame(event: string, data: unknown, id?: number): string {
  return `${id !== undefined ? `id: ${id}\n` : ""}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

function lastEventId(c: Context, query: Map<string, string>): number | undefined {
  const raw = c.req.header("last-event-id") ?? query.get("lastEventId");
  if (raw === undefined || raw.trim() === "") return undefined;
  if (!/^\d{1,16}$/.test(raw.trim())) throw badRequest(`Last-Event-ID must be an event id this gateway sent (a number), got ${JSON.stringify(raw.slice(0, 40))}`);
  return Number(raw.trim());
}

/**
 * `GET /events`: the engine's change events as server-sent events,
 * `id: <seq>` / `event: <type>` / `data: <SessionEvent>`, changes made by
 * the CLI and other processes on the same store included. The stream opens
 * with `ready` (new client) or the missed events (Last-Event-ID header or
 * `?lastEventId=`), or `reset` when they can no longer be replayed; then it
 * follows live. A comment every `keepAlive` seconds keeps proxies from
 * closing it; it ends when the client goes or the gateway shuts down.
 */
export function eventsHandler(deps: GatewayDeps): (c: Context) => Response {
  return (c) => {
    const query = queryOf(c, ["lastEventId", "keepAlive"]);
    const keepAliveMs = (intParam(query, "keepAlive", 1, 300) ?? KEEP_ALIVE_S) * 1000;
    const lastId = lastEventId(c, query);
    if (deps.draining.aborted) throw new OpenclawError("CLOSED", "the gateway is shutting down", { userError: false });

    let ctrl!: ReadableStreamDefaultController<Uint8Array>;
    let done = false;
    const body = new ReadableStream<Uint8Array>(
      {
        start: (controller) => void (ctrl = controller),
        cancel: () => finish(),
      },
      new ByteLengthQueuingStrategy({ highWaterMark: 64 * 1024 }),
    );
    const write = (text: string): void => {
      if (done) return;
      ctrl.enqueue(encoder.encode(text));
      if ((ctrl.desiredSize ?? 0) < -MAX_BACKLOG) finish(new Error("the client is not reading its event stream"));
    };
    const timer = setInterval(() => write(": keep-alive\n\n"), keepAliveMs);
    timer.unref();
    const onShutdown = (): void => finish();
    const onGone = (): void => finish();
    let unlisten: () => void = () => undefined;
    // With `failure`, the queued bytes are dropped and the connection cut at once (a stalled
    // client); otherwise what is queued is still sent, then the stream ends.
    function finish(failure?: Error): void {
      if (done) return;
      done = true;
      clearInterval(timer);
      unlisten();
      deps.draining.removeEventListener("abort", onShutdown);
      c.req.raw.signal.removeEventListener("abort", onGone);
      try {
        if (failure !== undefined) ctrl.error(failure);
        else ctrl.close();
      } catch {
        // Already closed or cancelled by the client.
      }
    }

    // No await from here to listen(): the replay and the live events meet with nothing lost or sent twice.
    write(`retry: ${RETRY_MS}\n\n`);
    const opening = openingFor(deps.events, lastId);
    if (opening.kind === "fresh") write(frame("ready", { lastEventId: opening.latest }, opening.latest));
    else if (opening.kind === "reset") write(frame("reset", { reason: opening.reason, lastEventId: opening.latest }, opening.latest));
    else for (const e of opening.events) write(frame(e.event.type, e.event, e.seq));
    // A replay too large for the backlog has already ended the stream: nothing left to follow.
    if (!done) {
      unlisten = deps.events.listen((e) => write(frame(e.event.type, e.event, e.seq)));
      deps.draining.addEventListener("abort", onShutdown, { once: true });
      c.req.raw.signal.addEventListener("abort", onGone, { once: true });
      if (c.req.raw.signal.aborted) finish();
    }

    return new Response(body, {
      status: 200,
      headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", connection: "keep-alive", "x-accel-buffering": "no" },
    });
  };
}
