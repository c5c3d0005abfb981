import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { sseEvents, type SseEvent } from "../../src/model/_sse.js";

/** `text` as bytes cut at pseudo-random places (a small LCG, so every seed is reproducible), splitting multi-byte characters too. */
function* pieces(text: string, seed: number): Generator<Uint8Array> {
  const bytes = Buffer.from(text, "utf8");
  let state = seed;
  for (let at = 0; at < bytes.length;) {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    const size = 1 + (state % 9);
    yield bytes.subarray(at, at + size);
    at += size;
  }
}

async function read(chunks: Iterable<Uint8Array>): Promise<SseEvent[]> {
  const source = (async function* () {
    yield* chunks;
  })();
  const out: SseEvent[] = [];
  for await (const e of sseEvents(source)) out.push(e);
  return out;
}

describe("server-sent events", () => {
  const wire = [": keep-alive comment\n\n", 'data: {"text":"héllo wörld 🌍"}\n\n', "event: error\r\ndata: first line\r\ndata: second line\r\n\r\n", "id: 7\nretry: 100\ndata:no space\n\n", "data: [DONE]\n\n"].join("");
  const expected: SseEvent[] = [
    { event: "", data: '{"text":"héllo wörld 🌍"}' },
    { event: "error", data: "first line\nsecond line" },
    { event: "", data: "no space" },
    { event: "", data: "[DONE]" },
  ];

  it("reads the same events however the bytes are cut, LF or CRLF, comments and other fields skipped", async () => {
    assert.deepEqual(await read([Buffer.from(wire)]), expected);
    for (let seed = 1; seed <= 25; seed++) assert.deepEqual(await read(pieces(wire, seed)), expected, `seed ${seed}`);
  });

  it("keeps a last event the server did not close with a blank line", async () => {
    assert.deepEqual(await read([Buffer.from('data: {"a":1}\n\ndata: {"b":2}')]), [
      { event: "", data: '{"a":1}' },
      { event: "", data: '{"b":2}' },
    ]);
  });

  it("drops an event without data", async () => {
    assert.deepEqual(await read([Buffer.from("event: ping\n\ndata: x\n\n")]), [{ event: "", data: "x" }]);
  });
});
