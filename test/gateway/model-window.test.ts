import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import OpenAI from "openai";
import { loadTokenCounter } from "../../src/context/tokens.js";
import { runCli } from "../helpers/cli-run.js";
import { startFakeUpstream, type FakeUpstream } from "../helpers/fake-upstream.js";
import { startGatewayProcess, type GatewayProcess } from "../helpers/gateway-process.js";

const WORDS = "harbour lantern copper meadow signal quarry velvet orchard thunder pebble canyon ribbon".split(" ");

describe("gateway: the window is the window of the model the turn goes to", () => {
  let upstream: FakeUpstream;
  let gw: GatewayProcess;
  let client: OpenAI;
  const session = (key: string) => ({ headers: { "x-openclaw-session-key": key } });

  before(async () => {
    upstream = await startFakeUpstream();
    // sessions.model stays gpt-4o (128k); the gateway calls a small model nobody configured a window for.
    gw = await startGatewayProcess({ sessions: { maxHistoryLength: 1000 }, gateway: { model: { baseUrl: upstream.baseUrl, model: "tiny-local-model", maxRetries: 0 } } });
    client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: gw.token, maxRetries: 0 });
  });
  after(async () => {
    assert.equal(await gw.stop(), 0);
    await upstream.close();
  });

  it("an unknown gateway model is planned at 8k with a start-up warning, and status says so", async () => {
    // A warning line of the gateway's (JSON) log; stderr is another pipe than the ready line, so wait for it.
    const warned = /"event":"warning".*unknown context window for model \\"tiny-local-model\\": assuming 8192 tokens/;
    const deadline = Date.now() + 10_000;
    while (gw.stderr().match(warned) === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.match(gw.stderr(), warned);
    const res = await fetch(`${gw.url}/admin/status`, { headers: { authorization: `Bearer ${gw.token}` } });
    const status = (await res.json()) as { model: string; window: number; budget: number };
    assert.deepEqual([status.model, status.window, status.budget], ["tiny-local-model", 8192, 8192 - 4096]);
    const cli = await runCli(["--state-dir", gw.stateDir, "status", "--json"], gw.home);
    assert.equal((JSON.parse(cli.stdout) as { model: string }).model, "tiny-local-model");
  });

  it("never sends the upstream more than that model's budget", async () => {
    const counter = await loadTokenCounter("tiny-local-model", 1.1);
    const budget = 8192 - 4096;
    let longest = 0;
    for (let turn = 0; turn < 30; turn++) {
      const text = Array.from({ length: 220 }, (_, i) => WORDS[(turn * 7 + i) % WORDS.length]).join(" ");
      await client.chat.completions.create({ model: "tiny-local-model", messages: [{ role: "user", content: `Turn ${turn}: ${text}` }] }, session("dm:test:window"));
      const sent = upstream.requests.at(-1)?.body.messages ?? [];
      const tokens = sent.reduce((n, m) => n + counter.countMessage({ role: m.role as "user", content: String(m.content ?? "") }), 0);
      longest = Math.max(longest, tokens);
      assert.ok(tokens <= budget, `turn ${turn}: ${tokens} tokens sent, budget ${budget}`);
    }
    // The history (30 × ~300 tokens) is well past the budget, so the budget was what bounded it.
    assert.ok(longest > budget / 2, `longest request ${longest} tokens`);
  });
});

describe("gateway: a configured 8k model, and a session on a smaller model of its own", () => {
  let upstream: FakeUpstream;
  let gw: GatewayProcess;
  let client: OpenAI;
  const session = (key: string) => ({ headers: { "x-openclaw-session-key": key } });
  const models = { "llama3.1:8b": { contextWindow: 8192, maxOutputTokens: 1024 }, "tiny-4k": { contextWindow: 4096, maxOutputTokens: 512 } };

  before(async () => {
    upstream = await startFakeUpstream();
    // llama3.1 is 128k in the built-in table; the operator runs it with an 8k context, and says so in `models`.
    gw = await startGatewayProcess({ models, sessions: { maxHistoryLength: 1000 }, gateway: { model: { baseUrl: upstream.baseUrl, model: "llama3.1:8b", maxRetries: 0 } } });
    client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: gw.token, maxRetries: 0 });
  });
  after(async () => {
    assert.equal(await gw.stop(), 0);
    await upstream.close();
  });

  /** Sends `turns` turns each stating one code among ~250 tokens of other talk; returns the largest request in tokens and the last request's text. */
  async function chat(key: string, turns: number, budget: number): Promise<{ codes: string[]; longest: number; last: string }> {
    const counter = await loadTokenCounter("llama3.1:8b", 1.1);
    const codes: string[] = [];
    let longest = 0;
    for (let turn = 0; turn < turns; turn++) {
      const code = `LOCKER-${1000 + turn * 37}`;
      codes.push(code);
      const talk = Array.from({ length: 180 }, (_, i) => WORDS[(turn * 5 + i) % WORDS.length]).join(" ");
      await client.chat.completions.create({ model: "llama3.1:8b", messages: [{ role: "user", content: `My locker code for week ${turn} is ${code}. ${talk}.` }] }, session(key));
      const sent = upstream.requests.at(-1)?.body.messages ?? [];
      const tokens = sent.reduce((n, m) => n + counter.countMessage({ role: m.role as "user", content: String(m.content ?? "") }), 0);
      longest = Math.max(longest, tokens);
      assert.ok(tokens <= budget, `${key} turn ${turn}: ${tokens} tokens sent, budget ${budget}`);
    }
    return { codes, longest, last: JSON.stringify(upstream.requests.at(-1)?.body.messages) };
  }

  it("status shows the configured window, with no warning", async () => {
    const res = await fetch(`${gw.url}/admin/status`, { headers: { authorization: `Bearer ${gw.token}` } });
    const status = (await res.json()) as { model: string; window: number; budget: number };
    assert.deepEqual([status.model, status.window, status.budget], ["llama3.1:8b", 8192, 8192 - 1024]);
    assert.doesNotMatch(gw.stderr(), /unknown context window/);
  });

  it("never sends the 8k model more than its budget, and every code stated stays in what it is sent", async () => {
    const budget = 8192 - 1024;
    const { codes, longest, last } = await chat("dm:test:llama-8k", 40, budget);
    assert.equal(upstream.requests.at(-1)?.body.model, "llama3.1:8b");
    // 40 turns of ~500 tokens each way are far past the budget: the budget bounded what was sent.
    assert.ok(longest > budget / 2, `longest request ${longest} tokens`);
    assert.deepEqual(
      codes.filter((c) => !last.includes(c)),
      [],
      "every code is in the summary or the recent turns",
    );
  });

  it("a session on a model of its own asks that model, sent no more than its budget", async () => {
    await client.chat.completions.create({ model: "llama3.1:8b", messages: [{ role: "user", content: "hello" }] }, session("dm:test:tiny"));
    const set = await runCli(["--state-dir", gw.stateDir, "sessions", "set", "dm:test:tiny", "--pref", "model=tiny-4k"], gw.home);
    assert.equal(set.code, 0, set.stderr);
    const budget = 4096 - 512;
    const { codes, longest, last } = await chat("dm:test:tiny", 25, budget);
    assert.equal(upstream.requests.at(-1)?.body.model, "tiny-4k", "the turn goes to the session's model");
    assert.ok(longest > budget / 2, `longest request ${longest} tokens`);
    assert.deepEqual(
      codes.filter((c) => !last.includes(c)),
      [],
      "every code is in the summary or the recent turns",
    );
    const shown = await runCli(["--state-dir", gw.stateDir, "sessions", "context", "dm:test:tiny", "--json"], gw.home);
    assert.equal(shown.code, 0, shown.stderr);
    const report = JSON.parse(shown.stdout) as { model: string; window: number; budget: number };
    assert.deepEqual([report.model, report.window, report.budget], ["tiny-4k", 4096, budget]);
  });

  it("a session on a model nobody configured is planned at 8k, and the gateway warns once", async () => {
    await client.chat.completions.create({ model: "llama3.1:8b", messages: [{ role: "user", content: "hello" }] }, session("dm:test:mystery"));
    const set = await runCli(["--state-dir", gw.stateDir, "sessions", "set", "dm:test:mystery", "--pref", "model=mystery-model-7"], gw.home);
    assert.equal(set.code, 0, set.stderr);
    for (const text of ["one", "two"]) await client.chat.completions.create({ model: "llama3.1:8b", messages: [{ role: "user", content: text }] }, session("dm:test:mystery"));
    assert.equal(upstream.requests.at(-1)?.body.model, "mystery-model-7");
    const warned = /"event":"warning".*unknown context window for model \\"mystery-model-7\\": assuming 8192 tokens/g;
    // A log line, written on its own pipe: waited for, not assumed there.
    const deadline = Date.now() + 10_000;
    while (gw.stderr().match(warned) === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(gw.stderr().match(warned)?.length, 1, gw.stderr());
    const shown = await runCli(["--state-dir", gw.stateDir, "sessions", "context", "dm:test:mystery", "--json"], gw.home);
    const report = JSON.parse(shown.stdout) as { window: number; warnings: string[] };
    assert.equal(report.window, 8192);
    assert.match(report.warnings.join("\n"), /unknown context window for model "mystery-model-7"/);
  });
});
