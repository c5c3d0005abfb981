import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { countTokens } from "gpt-tokenizer/encoding/o200k_base";
import OpenAI from "openai";
import type { ExportEnvelope } from "../../src/session/export.js";
import type { Session } from "../../src/session/types.js";
import { runCli } from "../helpers/cli-run.js";
import { startFakeUpstream, type FakeUpstream } from "../helpers/fake-upstream.js";
import { startGatewayProcess, type GatewayProcess } from "../helpers/gateway-process.js";

const show = async (gw: GatewayProcess, ref: string): Promise<Session> => JSON.parse((await runCli(["--state-dir", gw.stateDir, "sessions", "show", ref, "--json"], gw.home)).stdout) as Session;

describe("gateway: turns under concurrency, disconnects and long conversations", () => {
  let upstream: FakeUpstream;
  let gw: GatewayProcess;
  let client: OpenAI;
  const key = (k: string) => ({ headers: { "x-openclaw-session-key": k } });

  before(async () => {
    upstream = await startFakeUpstream();
    gw = await startGatewayProcess({
      sessions: { maxHistoryLength: 100, contextWindow: 4096, reserveTokens: 512 },
      gateway: { model: { baseUrl: upstream.baseUrl, model: "fake-model", maxRetries: 0 } },
    });
    client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: gw.token, maxRetries: 0 });
  });
  after(async () => {
    await gw.stop();
    await upstream.close();
  });

  it("requests for one session are serialised: turns never interleave; other sessions run alongside", async () => {
    upstream.chunkDelayMs = 5;
    try {
      await Promise.all([
        ...Array.from({ length: 8 }, (_, i) =>
          client.chat.completions.create({ model: "m", stream: true, messages: [{ role: "user", content: `q${i} a b c` }] }, key("dm:load:same")).then(async (s) => {
            for await (const _ of s) void _;
          }),
        ),
        ...Array.from({ length: 8 }, (_, i) => client.chat.completions.create({ model: "m", messages: [{ role: "user", content: `other ${i}` }] }, key(`dm:load:other${i}`))),
      ]);
    } finally {
      upstream.chunkDelayMs = 0;
    }
    const s = await show(gw, "dm:load:same");
    assert.equal(s.messages.length, 16);
    for (let i = 0; i < 16; i += 2) {
      const q = s.messages[i];
      const a = s.messages[i + 1];
      assert.equal(q?.role, "user");
      assert.equal(a?.content, `echo: ${q?.content}`, "each answer follows its own question");
    }
    assert.equal(new Set(s.messages.filter((m) => m.role === "user").map((m) => m.content)).size, 8);
  });

  it("a client that disconnects mid-stream aborts the upstream call; its question stays, no partial answer is stored", async () => {
    const question = "w1 w2 w3 w4 w5 w6 w7 w8 w9 w10 w11 w12 w13 w14 w15 w16 w17 w18 w19 w20";
    upstream.chunkDelayMs = 50;
    try {
      const controller = new AbortController();
      const stream = await client.chat.completions.create({ model: "m", stream: true, messages: [{ role: "user", content: question }] }, { ...key("dm:load:gone"), signal: controller.signal });
      let seen = 0;
      try {
        for await (const _ of stream) {
          if (++seen === 3) controller.abort();
        }
      } catch {
        // The client library reports the abort as an error or ends the iteration; either is fine.
      }
      assert.equal(seen, 3);
    } finally {
      upstream.chunkDelayMs = 0;
    }
    // The session takes the next turn normally. Its turns are serialised, so this one starts only after the aborted
    // one has ended: anything that turn stored would sit before it.
    const next = await client.chat.completions.create({ model: "m", messages: [{ role: "user", content: "again" }] }, key("dm:load:gone"));
    assert.equal(next.choices[0]?.message.content, "echo: again");
    const s = await show(gw, "dm:load:gone");
    assert.deepEqual(
      s.messages.map((m) => [m.role, m.content]),
      [
        ["user", question],
        ["user", "again"],
        ["assistant", "echo: again"],
      ],
    );
  });

  it("a 1,000-turn conversation keeps every request within the window and every turn in export", { timeout: 240_000 }, async () => {
    const budget = 4096 - 512;
    let maxSent = 0;
    let maxMessages = 0;
    for (let i = 0; i < 1000; i++) {
      const r = await client.chat.completions.create({ model: "m", messages: [{ role: "user", content: `turn ${i}: order ORD-${i} ships to dock ${i % 7}` }] }, key("dm:long:1"));
      assert.equal(r.choices[0]?.message.content, `echo: turn ${i}: order ORD-${i} ships to dock ${i % 7}`);
      const sent = upstream.requests.at(-1)?.body.messages ?? [];
      maxMessages = Math.max(maxMessages, sent.length);
      maxSent = Math.max(
        maxSent,
        sent.reduce((n, m) => n + countTokens(String(m.content ?? "")) + 4, 0),
      );
    }
    assert.ok(maxMessages <= 102, `at most the history limit plus the summary note is sent, saw ${maxMessages} messages`);
    assert.ok(maxSent <= budget, `every request fits the ${budget}-token budget (largest: ${maxSent} tokens)`);
    const exported = JSON.parse((await runCli(["--state-dir", gw.stateDir, "sessions", "export", "dm:long:1"], gw.home)).stdout) as ExportEnvelope;
    const doc = exported.sessions[0];
    assert.ok(doc);
    const all = [...doc.prunedHistory, ...doc.messages];
    assert.equal(all.length, 2000, "every question and every answer");
    assert.equal(new Set(all.map((m) => m.id)).size, 2000);
    assert.deepEqual(
      all.filter((m) => m.role === "user").map((m) => m.content),
      Array.from({ length: 1000 }, (_, i) => `turn ${i}: order ORD-${i} ships to dock ${i % 7}`),
    );
    assert.ok(doc.summary !== null && doc.summary.messageCount === doc.prunedHistory.length);
  });
});
