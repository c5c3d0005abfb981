import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import OpenAI from "openai";
import { SessionManager } from "../../src/manager/manager.js";
import { startGatewayProcess, type GatewayProcess } from "../helpers/gateway-process.js";
import { testStoreUri } from "../helpers/test-store.js";
import { until } from "../helpers/until.js";

const HOUR = 3_600_000;
const hex = (uuid: string) => uuid.replace(/-/g, "");

describe("gateway: one-off Responses sessions expire and go on their own", () => {
  let gw: GatewayProcess;
  let dir: string;
  let client: OpenAI;
  const storeUri = testStoreUri();
  /** Response ids of sessions made three hours ago, as POST /v1/responses makes them. */
  const ids: Record<"oneOff" | "chain", string> = { oneOff: "", chain: "" };
  const sessions: Record<"oneOff" | "chain", string> = { oneOff: "", chain: "" };
  const auditLines = () =>
    gw
      .stderr()
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as { event?: string; op?: string; sessions?: Array<{ id: string }>; rule?: string })
      .filter((l) => l.event === "audit" && l.op === "prune");

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "openclaw-one-off-"));
    const stateDir = join(dir, "state");
    await mkdir(stateDir, { recursive: true });
    const now = new Date(Date.now() - 3 * HOUR);
    const m = await SessionManager.open({ stateDir, ...(storeUri !== undefined ? { storeUri } : {}), config: {}, now: () => now, warn: () => undefined });
    try {
      for (const [name, turns] of [
        ["oneOff", 1],
        ["chain", 2],
      ] as const) {
        const s = await m.create({ key: `isolated:response:${crypto.randomUUID()}@default` });
        let reply = "";
        for (let i = 0; i < turns; i++) {
          await m.record({ ref: s.id }, { role: "user", content: `${name} question ${i}`, sender: null });
          reply = (await m.record({ ref: s.id }, { role: "assistant", content: `${name} answer ${i}`, sender: null }, { usage: { input: 3, output: 2, total: 5 } })).message.id;
        }
        sessions[name] = s.id;
        ids[name] = `resp_${hex(s.id)}_${hex(reply)}`;
      }
    } finally {
      await m.close();
    }
    gw = await startGatewayProcess(
      { ...(storeUri !== undefined ? { storage: { uri: storeUri } } : {}), sessions: { expirationMs: 2 * HOUR }, gateway: { model: { provider: "echo" }, responses: { oneOffTtl: "1h" } } },
      { stateDir },
    );
    client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: gw.token, maxRetries: 0 });
  });
  after(async () => {
    assert.equal(await gw.stop(), 0);
    await rm(dir, { recursive: true, force: true });
  });

  it("the maintenance run deletes a one-off past its ttl, with no retention rule set, and keeps a continued session", async () => {
    const line = await until("the one-off's prune audit line", () => auditLines().find((l) => l.sessions?.[0]?.id === sessions.oneOff));
    assert.equal(line.rule, "oneOffTtl");
    await assert.rejects(client.responses.retrieve(ids.oneOff), OpenAI.NotFoundError);
    assert.deepEqual(
      auditLines().map((l) => l.sessions?.[0]?.id),
      [sessions.oneOff],
    );
    // Expired under the normal policy (2h), but continued once: it stays, and can still be read back.
    assert.equal((await client.responses.retrieve(ids.chain)).output_text, "chain answer 1");
  });

  it("continuing an expired response says so plainly", async () => {
    await assert.rejects(client.responses.create({ model: "echo", input: "more", previous_response_id: ids.chain }), (err: unknown) => {
      assert.ok(err instanceof OpenAI.ConflictError, String(err));
      assert.match(err.message, /Previous response with id '.*' has expired and can no longer be continued/);
      return true;
    });
  });

  it("a new one-off made now is alive and can be continued", async () => {
    const first = await client.responses.create({ model: "echo", input: "hello" });
    const second = await client.responses.create({ model: "echo", input: "again", previous_response_id: first.id });
    assert.equal((await client.responses.retrieve(second.id)).previous_response_id, first.id);
  });
});
