import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fixtureExport } from "../helpers/cli-fixtures.js";
import { runCli } from "../helpers/cli-run.js";
import { startFakeUpstream, type FakeUpstream } from "../helpers/fake-upstream.js";
import { startGatewayProcess, type GatewayProcess } from "../helpers/gateway-process.js";
import { testStoreUri } from "../helpers/test-store.js";

// On the backend under test (OPENCLAW_TEST_STORE): the CLI calls share the gateway's config, so its store.
const storeUri = testStoreUri();
const backend = storeUri === undefined ? {} : { storage: { uri: storeUri } };

type Reply = { sessionId: string; key: string; reply: { content: string } };

describe("gateway: reset policies", () => {
  let upstream: FakeUpstream;
  let gw: GatewayProcess;

  before(async () => {
    upstream = await startFakeUpstream();
    // Seeded sessions started 65 minutes ago: the last full hour (UTC) lies between their start and now.
    const hour = new Date().getUTCHours();
    gw = await startGatewayProcess({
      sessions: { reset: { mode: "daily", atHour: hour, timezone: "UTC" }, resetByKind: { group: { mode: "never" } } },
      gateway: { model: { baseUrl: upstream.baseUrl, model: "fake-model", maxRetries: 0 } },
      ...backend,
    });
  });
  after(async () => {
    assert.equal(await gw.stop(), 0);
    await upstream.close();
  });

  it("a message for a key whose session passed its daily reset starts a fresh session with carry-over; a group that never resets keeps its own", async () => {
    const envelope = fixtureExport([{ key: "dm:telegram:42", preferences: { tone: "dry" }, systemPrompt: "You are terse." }, { key: "group:slack:C1" }]);
    const [dm, group] = envelope.sessions;
    assert.ok(dm !== undefined && group !== undefined);
    const file = join(gw.home, "seed.json");
    await writeFile(file, JSON.stringify(envelope));
    const imported = await runCli(["--state-dir", gw.stateDir, "sessions", "import", file], gw.home);
    assert.equal(imported.code, 0, imported.stderr);

    const post = async (body: unknown): Promise<Reply> => {
      const r = await fetch(`${gw.url}/hooks/inbound`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${gw.token}` }, body: JSON.stringify(body) });
      assert.equal(r.status, 200, await r.clone().text());
      return (await r.json()) as Reply;
    };
    const fresh = await post({ channel: "telegram", senderId: "42", text: "morning" });
    assert.equal(fresh.key, "dm:telegram:42");
    assert.notEqual(fresh.sessionId, dm.id);
    // Carried over: the model is asked with the previous session's system prompt and a summary of what it said, not its messages.
    const sent = upstream.requests.at(-1)?.body.messages.map((m) => [m.role, m.content]) ?? [];
    assert.deepEqual(
      sent.map(([role]) => role),
      ["system", "system", "user"],
    );
    assert.deepEqual(
      [sent[0], sent[2]],
      [
        ["system", "You are terse."],
        ["user", "morning"],
      ],
    );
    assert.match(String(sent[1]?.[1]), new RegExp(`^Carried over from the previous session of this key \\(${dm.id}, [^\\n]*\\nSummary of 2 earlier messages`));
    assert.match(String(sent[1]?.[1]), /order #1000/);
    const same = await post({ channel: "slack", senderId: "alice", groupId: "C1", text: "still here" });
    assert.equal(same.sessionId, group.id);

    const shown = await runCli(["--state-dir", gw.stateDir, "sessions", "show", dm.id, "--json"], gw.home);
    const old = JSON.parse(shown.stdout) as { status: string };
    assert.equal(old.status, "expired");
  });
});
