import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import autocannon from "autocannon";
import type { ExportEnvelope } from "../../src/session/export.js";
import { runCli } from "../helpers/cli-run.js";
import { startFakeUpstream, type FakeUpstream } from "../helpers/fake-upstream.js";
import { startGatewayProcess, type GatewayProcess } from "../helpers/gateway-process.js";

const SESSIONS = 100;
const REQUESTS = Number(process.env.GATEWAY_LOAD_REQUESTS ?? 2000);

describe("gateway under load (loopback, bounded)", () => {
  let upstream: FakeUpstream;
  let gw: GatewayProcess;
  before(async () => {
    upstream = await startFakeUpstream();
    gw = await startGatewayProcess({ sessions: { maxHistoryLength: 1000 }, gateway: { model: { baseUrl: upstream.baseUrl, model: "fake-model", maxRetries: 0 } } });
  });
  after(async () => {
    await gw.stop();
    await upstream.close();
  });

  it(`${REQUESTS} chat requests over ${SESSIONS} concurrent sessions lose and duplicate nothing`, { timeout: 300_000 }, async () => {
    let n = 0;
    const result = await autocannon({
      url: `${gw.url}/v1/chat/completions`,
      connections: SESSIONS,
      amount: REQUESTS,
      timeout: 60,
      requests: [
        {
          method: "POST",
          setupRequest: (req) => {
            const i = n++;
            return {
              ...req,
              headers: { "content-type": "application/json", authorization: `Bearer ${gw.token}`, "x-openclaw-session-key": `dm:load:u${i % SESSIONS}` },
              body: JSON.stringify({ model: "fake-model", messages: [{ role: "user", content: `msg ${i}` }] }),
            };
          },
        },
      ],
    });
    assert.equal(result.errors, 0, "no connection errors");
    assert.equal(result.non2xx, 0, "every request answered 200");
    assert.equal(result.requests.sent, REQUESTS);
    const exported = JSON.parse((await runCli(["--state-dir", gw.stateDir, "sessions", "export", "--all"], gw.home)).stdout) as ExportEnvelope;
    const load = exported.sessions.filter((s) => s.key.startsWith("dm:load:"));
    assert.equal(load.length, SESSIONS, "one session per key");
    const questions: string[] = [];
    for (const s of load) {
      const all = [...s.prunedHistory, ...s.messages];
      for (let i = 0; i < all.length; i += 2) {
        assert.equal(all[i]?.role, "user");
        assert.equal(all[i + 1]?.content, `echo: ${all[i]?.content}`, `${s.key}: every question answered once, right after it`);
        questions.push(all[i]?.content ?? "");
      }
    }
    assert.equal(questions.length, REQUESTS, "nothing lost");
    assert.equal(new Set(questions).size, REQUESTS, "nothing duplicated");
  });
});
