import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import type { Session } from "../src/session/types.js";
import { startFakeUpstream, type FakeUpstream } from "../test/helpers/fake-upstream.js";
import { startGatewayProcess, type GatewayProcess } from "../test/helpers/gateway-process.js";
import { withPostgresDatabase } from "../test/helpers/postgres.js";
import { envInt, tempDir } from "./_helpers.js";

/** Kills per backend. */
const ROUNDS = envInt("RELIABILITY_TAKEOVERS", 3);
/** The turn lease the gateways run with: short, so a takeover is quick to prove. */
const LEASE_MS = 1500;

const db = await withPostgresDatabase();
const backends = [
  { name: "postgres", skip: "skip" in db ? db.skip : false, storage: () => ({ uri: "skip" in db ? "" : db.freshSchemaUrl() }) },
  { name: "file", skip: false, storage: () => ({}) },
] as const;

async function waitFor(what: string, check: () => boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

async function chat(gw: GatewayProcess, key: string, content: string): Promise<Response> {
  return fetch(`${gw.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${gw.token}`, "content-type": "application/json", "x-openclaw-session-key": key },
    body: JSON.stringify({ model: "m", messages: [{ role: "user", content }] }),
  });
}

for (const backend of backends) {
  describe(`gateway takeover on ${backend.name}: the gateway holding a turn is SIGKILLed`, { skip: backend.skip }, () => {
    let upstream: FakeUpstream | undefined;
    after(() => upstream?.close());

    it(`${ROUNDS} times: the other gateway takes the session's turn over once the lease (${LEASE_MS} ms) expires, not before, and its reply answers its own question`, async (t) => {
      upstream = await startFakeUpstream();
      const { dir, cleanup } = await tempDir(`takeover-${backend.name}`);
      const storage = backend.storage();
      const config = {
        sessions: { maxHistoryLength: 1000 },
        storage: { ...storage, turnLeaseMs: LEASE_MS },
        gateway: { model: { baseUrl: upstream.baseUrl, model: "fake-model", maxRetries: 0 } },
      };
      const key = "dm:takeover:1";
      const b = await startGatewayProcess(config, { stateDir: dir });
      try {
        // A first turn loads what every turn needs (tokenizer, routes, upstream client), so the rounds time the takeover alone.
        assert.equal((await chat(b, "dm:takeover:warm-up", "hello")).status, 200);
        for (let round = 0; round < ROUNDS; round++) {
          const a = await startGatewayProcess(config, { stateDir: dir });
          const asked = upstream.requests.length;
          upstream.replyDelayMs = 60_000;
          const sentToA = Date.now();
          const dying = chat(a, key, `question ${round} to the gateway that dies`).catch(() => undefined);
          await waitFor("the doomed turn to reach the model", () => upstream!.requests.length > asked);
          upstream.replyDelayMs = 0;
          a.child.kill("SIGKILL");
          const killedAt = Date.now();
          const r = await chat(b, key, `question ${round} to the survivor`);
          const answeredAt = Date.now();
          assert.equal(r.status, 200, await r.clone().text());
          const body = (await r.json()) as { choices: Array<{ message: { content: string } }> };
          assert.equal(body.choices[0]?.message.content, `echo: question ${round} to the survivor`);
          // The lease was taken after sentToA, so it cannot have expired before sentToA + LEASE_MS.
          assert.ok(answeredAt - sentToA >= LEASE_MS - 50, `round ${round}: the survivor waited for the lease (${answeredAt - sentToA} ms after the doomed turn began)`);
          assert.ok(answeredAt - killedAt <= LEASE_MS + 1500, `round ${round}: taken over within the lease expiry (${answeredAt - killedAt} ms after the kill)`);
          t.diagnostic(`round ${round}: answered ${answeredAt - killedAt} ms after the kill, ${answeredAt - sentToA} ms after the doomed turn began`);
          await dying;
          await a.stop();
        }
        const res = await fetch(`${b.url}/admin/sessions/${encodeURIComponent(key)}`, { headers: { authorization: `Bearer ${b.token}` } });
        const s = (await res.json()) as Session;
        const expected = Array.from({ length: ROUNDS }, (_, round) => [
          ["user", `question ${round} to the gateway that dies`],
          ["user", `question ${round} to the survivor`],
          ["assistant", `echo: question ${round} to the survivor`],
        ]).flat();
        assert.deepEqual(
          s.messages.map((m) => [m.role, m.content]),
          expected,
          "each doomed question stays unanswered, each survivor's turn follows it whole",
        );
      } finally {
        await b.stop();
        await cleanup();
      }
    });
  });
}
