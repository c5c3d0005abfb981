import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import type { Session } from "../../src/session/types.js";
import { runCli } from "../helpers/cli-run.js";
import { startFakeUpstream, type FakeUpstream } from "../helpers/fake-upstream.js";
import { startGatewayProcess, type GatewayProcess } from "../helpers/gateway-process.js";
import { within } from "../helpers/within.js";

describe("gateway: an upstream that stalls", () => {
  let upstream: FakeUpstream;
  let gw: GatewayProcess;
  const IDLE_MS = 300;
  const TIMEOUT_MS = 600;

  before(async () => {
    upstream = await startFakeUpstream();
    gw = await startGatewayProcess({
      gateway: { model: { baseUrl: upstream.baseUrl, model: "fake-model", maxRetries: 0, timeoutMs: TIMEOUT_MS, streamIdleTimeoutMs: IDLE_MS } },
    });
  });
  afterEach(() => {
    upstream.stallAfterChunks = undefined;
  });
  after(async () => {
    await gw.stop();
    await upstream.close();
  });

  const chat = (key: string, content: string, stream: boolean): Promise<Response> =>
    fetch(`${gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${gw.token}`, "content-type": "application/json", "x-openclaw-session-key": key },
      body: JSON.stringify({ model: "fake-model", stream, messages: [{ role: "user", content }] }),
    });
  const show = async (key: string): Promise<Session> => JSON.parse((await runCli(["--state-dir", gw.stateDir, "sessions", "show", key, "--json"], gw.home)).stdout) as Session;

  /** The next turn of the same session is answered at once: the failed turn let go of the session. */
  const nextTurnAnswers = async (key: string): Promise<void> => {
    const started = Date.now();
    const res = await within(3_000, chat(key, "are you back", false));
    assert.equal(res.status, 200);
    const body = (await res.json()) as { choices: Array<{ message: { content: string } }> };
    assert.equal(body.choices[0]?.message.content, "echo: are you back");
    assert.ok(Date.now() - started < 1_500, `the next turn took ${Date.now() - started} ms`);
  };

  it("a stream that goes silent after its first chunk ends with an error event after the idle timeout, and the session's next turn runs at once", async () => {
    upstream.stallAfterChunks = 1;
    const res = await within(5_000, chat("dm:telegram:stall1", "tell me a long story", true));
    assert.equal(res.status, 200, "the stream had started");
    // The response starts with the first chunk; from there the upstream says nothing more.
    const started = Date.now();
    const text = await within(5_000, res.text());
    const took = Date.now() - started;
    const last = text.trim().split("\n\n").at(-1) ?? "";
    const event = JSON.parse(last.replace(/^data: /, "")) as { error?: { message: string; code: string } };
    assert.equal(event.error?.code, "upstream");
    assert.match(event.error?.message ?? "", new RegExp(`^model fake-model at http://127\\.0\\.0\\.1:\\d+/v1: no data from the model for ${IDLE_MS} ms \\(streamIdleTimeoutMs\\): the stream was cut off$`));
    assert.ok(took >= IDLE_MS * 0.8 && took < IDLE_MS + 1_500, `failed ${took} ms after the first chunk`);
    upstream.stallAfterChunks = undefined;
    await nextTurnAnswers("dm:telegram:stall1");
    const s = await show("dm:telegram:stall1");
    assert.deepEqual(
      s.messages.map((m) => [m.role, m.content]),
      [
        ["user", "tell me a long story"],
        ["user", "are you back"],
        ["assistant", "echo: are you back"],
      ],
      "the question stays; no partial answer is stored",
    );
  });

  it("a non-streamed reply that stalls in its body fails with a 502 after timeoutMs, and the session's next turn runs at once", async () => {
    upstream.stallAfterChunks = 0;
    const started = Date.now();
    const res = await within(5_000, chat("dm:telegram:stall2", "what is the weather", false));
    const took = Date.now() - started;
    assert.equal(res.status, 502);
    const body = (await res.json()) as { error: { message: string; type: string } };
    assert.equal(body.error.type, "server_error");
    assert.match(body.error.message, new RegExp(`: timeout of ${TIMEOUT_MS} ms$`));
    assert.ok(took >= TIMEOUT_MS && took < TIMEOUT_MS + 2_000, `failed after ${took} ms`);
    upstream.stallAfterChunks = undefined;
    await nextTurnAnswers("dm:telegram:stall2");
  });
});
