import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it, test } from "node:test";
import OpenAI from "openai";
import { errorLine, sandbox } from "../helpers/cli-run.js";
import { startGatewayProcess, type GatewayProcess } from "../helpers/gateway-process.js";

describe("gateway --model echo: the built-in offline model through the official openai client, no upstream at all", () => {
  let gw: GatewayProcess;
  let client: OpenAI;
  const session = (key: string) => ({ headers: { "x-openclaw-session-key": key } });

  before(async () => {
    gw = await startGatewayProcess({}, { args: ["--model", "echo"] });
    client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: gw.token, maxRetries: 0 });
  });
  after(async () => assert.equal(await gw.stop(), 0));

  it("says at start-up that it is the echo model, not for production", () => {
    assert.deepEqual(gw.first.model, { name: "echo", provider: "echo", window: 128_000, windowModel: "gpt-4o" });
    assert.match(gw.stderr(), /the model is the built-in echo model: .*not for production/);
  });

  it("lists itself as the model", async () => {
    assert.deepEqual(
      (await client.models.list()).data.map((m) => m.id),
      ["echo"],
    );
  });

  it("answers a chat completion with the last user message, the context's size and usage", async () => {
    const r = await client.chat.completions.create({ model: "echo", messages: [{ role: "user", content: "hello gateway" }] }, session("dm:web:newcomer"));
    assert.match(r.choices[0]?.message.content ?? "", /^echo: hello gateway \[context: 1 message, ~\d+ tokens; built-in echo model, not for production\]$/);
    assert.equal(r.choices[0]?.finish_reason, "stop");
    assert.ok((r.usage?.prompt_tokens ?? 0) > 0 && (r.usage?.completion_tokens ?? 0) > 0);
    assert.equal(r.usage?.total_tokens, (r.usage?.prompt_tokens ?? 0) + (r.usage?.completion_tokens ?? 0));
    // The session keeps the exchange: the next turn's context holds three messages.
    const next = await client.chat.completions.create({ model: "echo", messages: [{ role: "user", content: "again" }] }, session("dm:web:newcomer"));
    assert.match(next.choices[0]?.message.content ?? "", /^echo: again \[context: 3 messages,/);
  });

  it("streams a chat completion in pieces, with usage at the end", async () => {
    const stream = await client.chat.completions.create({ model: "echo", messages: [{ role: "user", content: "stream me please" }], stream: true, stream_options: { include_usage: true } }, session("dm:web:streamer"));
    let text = "";
    let pieces = 0;
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      const d = chunk.choices[0]?.delta.content;
      if (d) {
        text += d;
        pieces++;
      }
      if (chunk.usage) usage = chunk.usage;
    }
    assert.match(text, /^echo: stream me please \[context: 1 message,/);
    assert.ok(pieces > 1, "more than one piece");
    assert.ok((usage?.prompt_tokens ?? 0) > 0 && (usage?.completion_tokens ?? 0) > 0, JSON.stringify(usage));
  });

  it("answers the Responses API, streamed and not", async () => {
    const r = await client.responses.create({ model: "echo", input: "what is this?" });
    assert.match(r.output_text, /^echo: what is this\? \[context: 1 message,/);
    assert.ok((r.usage?.input_tokens ?? 0) > 0 && (r.usage?.output_tokens ?? 0) > 0);
    const follow = await client.responses.create({ model: "echo", input: "and this?", previous_response_id: r.id });
    assert.match(follow.output_text, /^echo: and this\? \[context: 3 messages,/);
    const stream = await client.responses.create({ model: "echo", input: "streamed", stream: true });
    let text = "";
    let done: OpenAI.Responses.Response | undefined;
    for await (const event of stream) {
      if (event.type === "response.output_text.delta") text += event.delta;
      if (event.type === "response.completed") done = event.response;
    }
    assert.match(text, /^echo: streamed \[/);
    assert.ok((done?.usage?.total_tokens ?? 0) > 0);
  });
});

test('config: gateway.model.provider "echo" validates, starts the echo model; an unknown provider is one clear line', async (t) => {
  const sb = await sandbox(t);
  await mkdir(sb.stateDir, { recursive: true });
  await writeFile(join(sb.stateDir, "config.json"), JSON.stringify({ gateway: { model: { provider: "echo" } } }));
  assert.equal((await sb.run(["config", "validate"])).code, 0);
  await writeFile(join(sb.stateDir, "config.json"), JSON.stringify({ gateway: { model: { provider: "ollama" } } }));
  assert.match(errorLine(await sb.run(["config", "validate"])), /^error: config\.json: gateway\.model\.provider: expected "provider": "openai-compatible" \(with baseUrl and model\) or "echo"/);
  await writeFile(join(sb.stateDir, "config.json"), "{}");
  const r = await sb.run(["gateway", "--port", "0", "--model", "llama3"]);
  assert.notEqual(r.code, 0);
  assert.match(errorLine(r), /--model "llama3" needs an upstream: set gateway\.model\.baseUrl in config\.json, or use --model echo/);

  const gw = await startGatewayProcess({ gateway: { model: { provider: "echo" } } });
  try {
    assert.equal((gw.first.model as { provider: string }).provider, "echo");
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: gw.token, maxRetries: 0 });
    const r2 = await client.chat.completions.create({ model: "echo", messages: [{ role: "user", content: "hi" }] });
    assert.match(r2.choices[0]?.message.content ?? "", /^echo: hi /);
  } finally {
    await gw.stop();
  }
});
