import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import OpenAI from "openai";
import { runCli } from "../helpers/cli-run.js";
import { startFakeUpstream, type FakeUpstream } from "../helpers/fake-upstream.js";
import { startGatewayProcess, type GatewayProcess } from "../helpers/gateway-process.js";

type Policy = "apply" | "store" | "ignore" | "refuse";

/** A gateway on a fake upstream with `gateway.clientSystemPrompt` set to `policy` (none: the default). */
function gatewayWith(policy: Policy | undefined) {
  const env = {} as { upstream: FakeUpstream; gw: GatewayProcess; client: OpenAI };
  before(async () => {
    env.upstream = await startFakeUpstream();
    env.gw = await startGatewayProcess({ gateway: { model: { baseUrl: env.upstream.baseUrl, model: "gpt-4o", maxRetries: 0 }, ...(policy === undefined ? {} : { clientSystemPrompt: policy }) } });
    env.client = new OpenAI({ baseURL: `${env.gw.url}/v1`, apiKey: env.gw.token, maxRetries: 0 });
  });
  after(async () => {
    assert.equal(await env.gw.stop(), 0);
    await env.upstream.close();
  });
  return env;
}

const session = (key: string) => ({ headers: { "x-openclaw-session-key": key } });
const sentOf = (upstream: FakeUpstream) => upstream.requests.at(-1)?.body.messages.map((m) => [m.role, m.content]) ?? [];

async function exported(gw: GatewayProcess, ref: string): Promise<string> {
  const r = await runCli(["--state-dir", gw.stateDir, "sessions", "export", ref], gw.home);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

describe("gateway: a client's system prompt in chat completions, applied (the default)", () => {
  const env = gatewayWith(undefined);

  it("reaches the upstream after the session's own system prompt, for that turn only, and is not stored", async () => {
    const { gw, client, upstream } = env;
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
    const sent = sentOf(upstream);
    assert.deepEqual(sent.slice(0, 2), [
      ["system", "Session rule: answer in French."],
      ["system", "Bot persona: you are Bibi the helpful parrot.\n\nKeep replies under 20 words."],
    ]);
    assert.deepEqual(sent.at(-1), ["user", "second"]);
    const doc = await exported(gw, "dm:test:sys");
    assert.ok(doc.includes("Session rule: answer in French."), "the session's own prompt is exported");
    assert.ok(!doc.includes("Bibi"), "the client's system prompt is not stored");
    // The next turn without it sends none.
    await client.chat.completions.create({ model: "gpt-4o", messages: [{ role: "user", content: "third" }] }, session("dm:test:sys"));
    assert.ok(!JSON.stringify(upstream.requests.at(-1)?.body.messages).includes("Bibi"));
  });

  it("is applied to a streamed turn too", async () => {
    const { client, upstream } = env;
    const stream = await client.chat.completions.create(
      {
        model: "gpt-4o",
        stream: true,
        messages: [
          { role: "system", content: "Streamed persona." },
          { role: "user", content: "stream please" },
        ],
      },
      session("dm:test:sys-stream"),
    );
    for await (const _ of stream) void _;
    assert.deepEqual(sentOf(upstream), [
      ["system", "Streamed persona."],
      ["user", "stream please"],
    ]);
  });
});

describe('gateway: clientSystemPrompt "store"', () => {
  const env = gatewayWith("store");

  it("makes the client's system text the session's system prompt, sent once, replaced when it changes", async () => {
    const { gw, client, upstream } = env;
    await client.chat.completions.create(
      {
        model: "gpt-4o",
        messages: [
          { role: "system", content: "Persona A." },
          { role: "user", content: "hi" },
        ],
      },
      session("dm:test:store"),
    );
    assert.deepEqual(sentOf(upstream), [
      ["system", "Persona A."],
      ["user", "hi"],
    ]);
    assert.ok((await exported(gw, "dm:test:store")).includes("Persona A."), "stored: it is in the export");
    // The same text again changes nothing and is not sent twice.
    await client.chat.completions.create(
      {
        model: "gpt-4o",
        messages: [
          { role: "system", content: "Persona A." },
          { role: "user", content: "hi" },
          { role: "assistant", content: "echo: hi" },
          { role: "user", content: "again" },
        ],
      },
      session("dm:test:store"),
    );
    assert.deepEqual(sentOf(upstream), [
      ["system", "Persona A."],
      ["user", "hi"],
      ["assistant", "echo: hi"],
      ["user", "again"],
    ]);
    // A new text replaces it; a turn without one keeps what is stored.
    await client.chat.completions.create(
      {
        model: "gpt-4o",
        messages: [
          { role: "system", content: "Persona B." },
          { role: "user", content: "changed" },
        ],
      },
      session("dm:test:store"),
    );
    assert.deepEqual(sentOf(upstream)[0], ["system", "Persona B."]);
    assert.equal(sentOf(upstream).filter(([role]) => role === "system").length, 1);
    await client.chat.completions.create({ model: "gpt-4o", messages: [{ role: "user", content: "no system this time" }] }, session("dm:test:store"));
    assert.deepEqual(sentOf(upstream)[0], ["system", "Persona B."]);
    const doc = await exported(gw, "dm:test:store");
    assert.ok(doc.includes("Persona B.") && !doc.includes("Persona A."), "the stored prompt was replaced");
  });
});

describe('gateway: clientSystemPrompt "ignore"', () => {
  const env = gatewayWith("ignore");

  it("leaves the client's system text out of the upstream request and the store; the turn still runs", async () => {
    const { gw, client, upstream } = env;
    const r = await client.chat.completions.create(
      {
        model: "gpt-4o",
        messages: [
          { role: "developer", content: "Secret persona." },
          { role: "user", content: "hello" },
        ],
      },
      session("dm:test:ignore"),
    );
    assert.equal(r.choices[0]?.message.content, "echo: hello");
    assert.deepEqual(sentOf(upstream), [["user", "hello"]]);
    assert.ok(!(await exported(gw, "dm:test:ignore")).includes("Secret persona."));
  });
});

describe('gateway: clientSystemPrompt "refuse"', () => {
  const env = gatewayWith("refuse");

  it("refuses a session's request that carries system text (400), asks nothing and records nothing", async () => {
    const { gw, client, upstream } = env;
    const before = upstream.requests.length;
    await assert.rejects(
      client.chat.completions.create(
        {
          model: "gpt-4o",
          messages: [
            { role: "system", content: "Persona." },
            { role: "user", content: "hello" },
          ],
        },
        session("dm:test:refuse"),
      ),
      (err: unknown) => err instanceof OpenAI.BadRequestError && /clientSystemPrompt is "refuse"/.test(err.message),
    );
    assert.equal(upstream.requests.length, before, "the model was not asked");
    const show = await runCli(["--state-dir", gw.stateDir, "sessions", "show", "dm:test:refuse"], gw.home);
    assert.notEqual(show.code, 0, "no session was started");
    // Without system text the same session key works.
    const r = await client.chat.completions.create({ model: "gpt-4o", messages: [{ role: "user", content: "hello" }] }, session("dm:test:refuse"));
    assert.equal(r.choices[0]?.message.content, "echo: hello");
  });

  it("passes a stateless request (no session named) through whole, system text included", async () => {
    const { client, upstream } = env;
    await client.chat.completions.create({
      model: "gpt-4o",
      messages: [
        { role: "system", content: "Stateless persona." },
        { role: "user", content: "hi" },
      ],
    });
    assert.deepEqual(sentOf(upstream), [
      ["system", "Stateless persona."],
      ["user", "hi"],
    ]);
  });
});
