import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { SessionEvent } from "../../src/manager/events.js";
import { runCli } from "../helpers/cli-run.js";
import { startGatewayProcess, type GatewayProcess } from "../helpers/gateway-process.js";

/** One server-sent event (or comment) as received. */
interface Frame {
  id?: string;
  event?: string;
  data?: string;
  retry?: string;
  comment?: string;
}

/** Reads an SSE response as frames; `next` waits for the next one. */
class SseClient {
  readonly frames: Frame[] = [];
  private cursor = 0;
  private wake: (() => void) | undefined;
  /** Resolves when the stream ends, however it ends. */
  readonly ended: Promise<void>;

  constructor(
    readonly response: Response,
    private readonly abort: AbortController,
  ) {
    this.ended = this.read();
  }

  private async read(): Promise<void> {
    const reader = this.response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let buf = "";
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += value;
        for (let cut = buf.indexOf("\n\n"); cut >= 0; cut = buf.indexOf("\n\n")) {
          this.frames.push(parse(buf.slice(0, cut)));
          buf = buf.slice(cut + 2);
          this.wake?.();
        }
      }
    } catch {
      // Aborted by the test, or the connection was cut at shutdown.
    } finally {
      this.wake?.();
    }
  }

  /** The next frame that is not a comment or a retry hint, waiting up to `ms`. */
  async next(ms = 5000): Promise<Frame> {
    const deadline = Date.now() + ms;
    for (;;) {
      while (this.cursor < this.frames.length) {
        const f = this.frames[this.cursor++] as Frame;
        if (f.event !== undefined || f.data !== undefined) return f;
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no event within ${ms} ms; got ${JSON.stringify(this.frames)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  }

  /** The next `n` change events, with their data parsed. */
  async changes(n: number): Promise<Array<{ seq: number; event: string; data: SessionEvent }>> {
    const out = [];
    for (let i = 0; i < n; i++) {
      const f = await this.next();
      assert.ok(f.id !== undefined && f.event !== undefined && f.data !== undefined, `a change event: ${JSON.stringify(f)}`);
      const data = JSON.parse(f.data) as SessionEvent;
      assert.equal(data.type, f.event, "event: names the change type");
      out.push({ seq: Number(f.id), event: f.event, data });
    }
    return out;
  }

  /** Asserts nothing but comments arrives within `ms`. */
  async quiet(ms: number): Promise<void> {
    await assert.rejects(this.next(ms), /no event within/);
  }

  close(): void {
    this.abort.abort();
  }
}

function parse(block: string): Frame {
  const f: Frame = {};
  for (const line of block.split("\n")) {
    if (line.startsWith(":")) f.comment = line.slice(1).trim();
    else {
      const at = line.indexOf(":");
      const name = line.slice(0, at) as keyof Frame;
      f[name] = line.slice(at + 1).replace(/^ /, "");
    }
  }
  return f;
}

describe("gateway: the admin event stream", () => {
  let gw: GatewayProcess;
  let stopped: number | null | undefined;
  const open: SseClient[] = [];

  const auth = () => ({ authorization: `Bearer ${gw.token}` });
  const connect = async (query = "", headers: Record<string, string> = {}): Promise<SseClient> => {
    const abort = new AbortController();
    const r = await fetch(`${gw.url}/admin/events${query}`, { headers: { ...auth(), ...headers }, signal: abort.signal });
    assert.equal(r.status, 200, await (r.status === 200 ? Promise.resolve("") : r.text()));
    assert.match(r.headers.get("content-type") ?? "", /^text\/event-stream/);
    const client = new SseClient(r, abort);
    open.push(client);
    return client;
  };
  const cli = async (...args: string[]): Promise<void> => {
    const r = await runCli(["--state-dir", gw.stateDir, ...args], gw.home);
    assert.equal(r.code, 0, r.stderr);
  };
  const admin = async (path: string, init: RequestInit = {}): Promise<void> => {
    const r = await fetch(`${gw.url}/admin${path}`, { ...init, headers: { ...auth(), "content-type": "application/json" } });
    assert.equal(r.status, 200, await r.text());
  };
  const summary = (cs: Array<{ event: string; data: SessionEvent }>) => cs.map((c) => [c.event, c.data.key, c.data.revision, c.data.origin]);

  before(async () => {
    gw = await startGatewayProcess({});
  });
  after(async () => {
    for (const c of open) c.close();
    if (stopped === undefined) assert.equal(await gw.stop(), 0);
  });

  it("streams gateway and CLI changes in order, numbered, each once", async () => {
    const s = await connect();
    const ready = await s.next();
    assert.equal(ready.event, "ready");
    const base = Number(ready.id);
    assert.ok(Number.isSafeInteger(base));
    assert.deepEqual(JSON.parse(ready.data ?? ""), { lastEventId: base });

    // Each remote change is awaited before the next local one: a gateway write that overtakes a
    // CLI change not yet polled from the journal makes the manager drop the older event (in order per session).
    const got = [];
    await cli("sessions", "append", "--dm", "telegram:ev1", "hello from another process");
    got.push(...(await s.changes(2)));
    await admin("/sessions/dm:telegram:ev1", { method: "PATCH", body: JSON.stringify({ set: { language: "fr" } }) });
    await cli("sessions", "append", "--dm", "telegram:ev1", "again");
    got.push(...(await s.changes(2)));
    await admin("/sessions/dm:telegram:ev1/archive", { method: "POST" });
    got.push(...(await s.changes(1)));
    assert.deepEqual(summary(got), [
      ["created", "dm:telegram:ev1", 1, "remote"],
      ["appended", "dm:telegram:ev1", 2, "remote"],
      ["edited", "dm:telegram:ev1", 3, "local"],
      ["appended", "dm:telegram:ev1", 4, "remote"],
      ["archived", "dm:telegram:ev1", 5, "local"],
    ]);
    assert.deepEqual(
      got.map((g) => g.seq),
      [1, 2, 3, 4, 5].map((i) => base + i),
      "consecutive ids after ready",
    );
    await s.quiet(300);
    s.close();
  });

  it("resumes after Last-Event-ID (header or ?lastEventId=) with what was missed, then live, without duplicates", async () => {
    const watcher = await connect();
    await watcher.next();
    const s = await connect();
    await s.next();
    await cli("sessions", "append", "--dm", "telegram:ev2", "first");
    const seen = await s.changes(2);
    assert.deepEqual(await watcher.changes(2), seen);
    const last = seen[1]?.seq as number;
    s.close();

    // While the client is away: one change by the CLI, one through the gateway.
    await cli("sessions", "append", "--dm", "telegram:ev2", "while away");
    const missed = await watcher.changes(1);
    await admin("/sessions/dm:telegram:ev2", { method: "PATCH", body: JSON.stringify({ allow: ["web.*"] }) });
    missed.push(...(await watcher.changes(1)));

    const back = await connect("", { "last-event-id": String(last) });
    const replay = await back.changes(2);
    assert.deepEqual(replay, missed);
    assert.deepEqual(
      replay.map((r) => r.seq),
      [last + 1, last + 2],
    );
    await admin("/sessions/dm:telegram:ev2/clear", { method: "POST" });
    const live = await back.changes(1);
    assert.deepEqual(summary(live), [["cleared", "dm:telegram:ev2", 5, "local"]]);
    assert.equal(live[0]?.seq, last + 3);
    await back.quiet(300);

    const byQuery = await connect(`?lastEventId=${last}`);
    assert.deepEqual(
      (await byQuery.changes(3)).map((c) => c.seq),
      [last + 1, last + 2, last + 3],
    );
    await byQuery.quiet(300);
    for (const c of [watcher, back, byQuery]) c.close();
  });

  it("an id older than what is kept, or unknown to this gateway, gets a reset, then live events", async () => {
    const probe = await connect();
    const latest = Number((await probe.next()).id);
    probe.close();
    for (const [id, why] of [
      ["1", /no longer kept/],
      [String(latest + 1000), /unknown to this gateway/],
    ] as const) {
      const s = await connect("", { "last-event-id": id });
      const reset = await s.next();
      assert.equal(reset.event, "reset");
      assert.equal(Number(reset.id), latest, "the reset carries the current position, so a reload resumes from there");
      assert.match((JSON.parse(reset.data ?? "") as { reason: string }).reason, why);
      s.close();
    }
    const s = await connect("", { "last-event-id": "1" });
    await s.next();
    await cli("sessions", "append", "--dm", "telegram:ev3", "after a reset");
    assert.deepEqual(
      (await s.changes(2)).map((c) => c.seq),
      [latest + 1, latest + 2],
    );
    s.close();

    const bad = await fetch(`${gw.url}/admin/events`, { headers: { ...auth(), "last-event-id": "abc" } });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { error: { message: string } }).error.message, /Last-Event-ID must be/);
    assert.equal((await fetch(`${gw.url}/admin/events?keepAlive=0`, { headers: auth() })).status, 400);
    assert.equal((await fetch(`${gw.url}/admin/events`)).status, 401);
  });

  it("sends keep-alive comments", async () => {
    const s = await connect("?keepAlive=1");
    await s.next();
    const t0 = Date.now();
    while (!s.frames.some((f) => f.comment === "keep-alive")) {
      assert.ok(Date.now() - t0 < 3000, "a keep-alive comment within 3 s");
      await new Promise((r) => setTimeout(r, 50));
    }
    s.close();
  });

  it("ends open streams when the gateway shuts down, which then exits 0", async () => {
    const s = await connect();
    await s.next();
    const t0 = Date.now();
    stopped = await gw.stop();
    assert.equal(stopped, 0);
    await s.ended;
    assert.ok(Date.now() - t0 < 10_000, "within the shutdown grace period");
  });
});
