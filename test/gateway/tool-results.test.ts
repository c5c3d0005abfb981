import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import OpenAI from "openai";
import type { Session } from "../../src/session/types.js";
import { runCli } from "../helpers/cli-run.js";
import { startFakeUpstream, type FakeUpstream } from "../helpers/fake-upstream.js";
import { startGatewayProcess, type GatewayProcess } from "../helpers/gateway-process.js";
import { testStoreUri } from "../helpers/test-store.js";

describe("gateway: old tool results are sent cut, stored whole", () => {
  let upstream: FakeUpstream;
  let gw: GatewayProcess;
  let client: OpenAI;
  const storeUri = testStoreUri();

  before(async () => {
    upstream = await startFakeUpstream();
    gw = await startGatewayProcess({
      context: { toolResults: { keepTurns: 1, softTrimChars: 200 } },
      ...(storeUri !== undefined ? { storage: { uri: storeUri } } : {}),
      gateway: { model: { baseUrl: upstream.baseUrl, model: "fake-model", maxRetries: 0 } },
    });
    client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: gw.token, maxRetries: 0 });
  });
  after(async () => {
    assert.equal(await gw.stop(), 0);
    await upstream.close();
  });

  it("the upstream gets the head and tail of results older than keepTurns turns", async () => {
    const tools: OpenAI.ChatCompletionTool[] = [{ type: "function", function: { name: "lookup", parameters: { type: "object", properties: {} } } }];
    const headers = { headers: { "x-openclaw-session-key": "dm:telegram:tools" } };
    const history: OpenAI.ChatCompletionMessageParam[] = [];
    const result = (n: number) => `START-${n} ${"lots of rows; ".repeat(100)}FINISH-${n}`;
    for (let n = 0; n < 3; n++) {
      history.push({ role: "user", content: `CALL lookup {"n":${n}}` });
      const ask = await client.chat.completions.create({ model: "fake-model", tools, messages: history }, headers);
      const call = ask.choices[0]?.message.tool_calls?.[0];
      assert.ok(call);
      history.push({ role: "assistant", content: null, tool_calls: [call] }, { role: "tool", tool_call_id: call.id, content: result(n) });
      const done = await client.chat.completions.create({ model: "fake-model", tools, messages: history }, headers);
      history.push({ role: "assistant", content: done.choices[0]?.message.content ?? "" });
    }
    const sent =
      upstream.requests
        .at(-1)
        ?.body.messages.filter((m) => m.role === "tool")
        .map((m) => m.content ?? "") ?? [];
    assert.equal(sent.length, 3);
    for (const [n, content] of sent.entries()) {
      assert.ok(content.startsWith(`START-${n}`) && content.endsWith(`FINISH-${n}`));
      if (n < 2) assert.ok(content.length < result(n).length && /left out of the context/.test(content), `result ${n} is cut`);
      else assert.equal(content, result(n), "the latest turn's result is whole");
    }
    const shown = await runCli(["--state-dir", gw.stateDir, ...(storeUri !== undefined ? ["--store", storeUri] : []), "sessions", "show", "dm:telegram:tools", "--json"], gw.home);
    const doc = JSON.parse(shown.stdout) as Session;
    assert.deepEqual(
      doc.messages.filter((m) => m.role === "tool").map((m) => m.content),
      [result(0), result(1), result(2)],
    );
  });
});
