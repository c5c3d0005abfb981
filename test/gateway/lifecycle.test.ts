import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import OpenAI from "openai";
import type { Session } from "../../src/session/types.js";
import { errorLine, runCli, sandbox } from "../helpers/cli-run.js";
import { startFakeUpstream } from "../helpers/fake-upstream.js";
import { startGatewayProcess } from "../helpers/gateway-process.js";

test("SIGTERM lets an in-flight streamed turn finish, stores it, and exits 0", async () => {
  const upstream = await startFakeUpstream();
  const gw = await startGatewayProcess({ gateway: { model: { baseUrl: upstream.baseUrl, model: "m", maxRetries: 0 } } });
  try {
    upstream.chunkDelayMs = 40;
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: gw.token, maxRetries: 0 });
    const stream = await client.chat.completions.create({ model: "m", stream: true, messages: [{ role: "user", content: "a b c d e f g h i j" }] }, { headers: { "x-openclaw-session-key": "dm:life:1" } });
    let text = "";
    let stopped: Promise<number | null> | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      // Ask it to stop while the reply is still streaming.
      if (stopped === undefined && text.length > 0) {
        gw.child.kill("SIGTERM");
        stopped = new Promise((resolve) => gw.child.once("exit", (code) => resolve(code)));
      }
    }
    assert.equal(text, "echo: a b c d e f g h i j");
    assert.equal(await stopped, 0);
    const r = await runCli(["--state-dir", gw.stateDir, "sessions", "show", "dm:life:1", "--json"], gw.home);
    assert.deepEqual(
      (JSON.parse(r.stdout) as Session).messages.map((m) => m.content),
      ["a b c d e f g h i j", "echo: a b c d e f g h i j"],
    );
  } finally {
    await gw.stop();
    await upstream.close();
  }
});

test("a bad port or config stops the gateway with one error line", async (t) => {
  const sb = await sandbox(t);
  const bad = await sb.run(["gateway", "--port", "99999"]);
  assert.equal(bad.code, 2);
  await mkdir(sb.stateDir, { recursive: true });
  await writeFile(join(sb.stateDir, "config.json"), JSON.stringify({ gateway: { port: "http" } }));
  const cfg = await sb.run(["gateway"]);
  assert.equal(cfg.code, 1);
  assert.match(errorLine(cfg), /gateway\.port: expected a port number/);
});

test("without an upstream model, model endpoints answer 503 and the rest works", async () => {
  const gw = await startGatewayProcess({});
  try {
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: gw.token, maxRetries: 0 });
    assert.deepEqual((await client.models.list()).data, []);
    await assert.rejects(
      client.chat.completions.create({ model: "m", messages: [{ role: "user", content: "hi" }] }),
      (err: unknown) => err instanceof OpenAI.APIError && err.status === 503 && /gateway\.model/.test(err.message),
    );
  } finally {
    await gw.stop();
  }
});
