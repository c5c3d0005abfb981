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
    while (!warned.test(gw.stderr()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
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

describe("gateway: a client's system prompt in chat completions", () => {
  let upstream: FakeUpstream;
  let gw: GatewayProcess;
  let client: OpenAI;
  const session = (key: string) => ({ headers: { "x-openclaw-session-key": key } });

  before(async () => {
    upstream = await startFakeUpstream();
    gw = await startGatewayProcess({ gateway: { model: { baseUrl: upstream.baseUrl, model: "gpt-4o", maxRetries: 0 } } });
    client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: gw.token, maxRetries: 0 });
  });
  after(async () => {
    assert.equal(await gw.stop(), 0);
    await upstream.close();
  });

  it("reaches the upstream after the session's own system prompt, for that turn only, and is not stored", async () => {
    await client.chat.completions.create({ model: "gpt-4o", messages: [{ role: "user", content: "first" }] }, session("dm:test:sys"));
    const set = await runCli(["--state-dir", gw.stateDir, "sessions", "set", "dm:test:sys", "--system", "Session rule: answer in French."], gw.home);
    assert.equal(set.code, 0, set.stderr);
    await client.chat.completions.create(
      {
        model: "gpt-4o",
        messages: [
          { role: "system", content: "Bot persona: you are Bibi the helpful parrot." },
          { role: "developer", content: "Keep replies under 20 words." },
          { role: "user", content: "first" },
          { role: "assistant", content: "echo: first" },
          { role: "user", content: "second" },
        ],
      },
      session("dm:test:sys"),
    );
    const sent = upstream.requests.at(-1)?.body.messages.map((m) => [m.role, m.content]);
    assert.deepEqual(sent?.slice(0, 2), [
      ["system", "Session rule: answer in French."],
      ["system", "Bot persona: you are Bibi the helpful parrot.\n\nKeep replies under 20 words."],
    ]);
    assert.deepEqual(sent?.at(-1), ["user", "second"]);
    const exported = await runCli(["--state-dir", gw.stateDir, "sessions", "export", "dm:test:sys"], gw.home);
    assert.equal(exported.code, 0, exported.stderr);
    assert.ok(exported.stdout.includes("Session rule: answer in French."), "the session's own prompt is exported");
    assert.ok(!exported.stdout.includes("Bibi"), "the client's system prompt is not stored");
    // The next turn without it sends none.
    await client.chat.completions.create({ model: "gpt-4o", messages: [{ role: "user", content: "third" }] }, session("dm:test:sys"));
    assert.ok(!JSON.stringify(upstream.requests.at(-1)?.body.messages).includes("Bibi"));
  });
});
