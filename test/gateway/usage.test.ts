import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import OpenAI from "openai";
import type { Browser } from "playwright-core";
import type { UsageReport } from "../../src/manager/usage.js";
import type { Session, SessionUsage } from "../../src/session/types.js";
import { launchBrowser } from "../helpers/browser.js";
import { startFakeUpstream, type FakeUpstream } from "../helpers/fake-upstream.js";
import { startGatewayProcess, type GatewayProcess } from "../helpers/gateway-process.js";
import { testStoreUri } from "../helpers/test-store.js";

describe("gateway: usage accounting", () => {
  let upstream: FakeUpstream;
  let gw: GatewayProcess;
  let client: OpenAI;
  let browser: Browser | undefined;
  const storeUri = testStoreUri();
  const key = (k: string) => ({ headers: { "x-openclaw-session-key": k } });
  const admin = async <T>(path: string, status = 200): Promise<T> => {
    const res = await fetch(`${gw.url}/admin${path}`, { headers: { authorization: `Bearer ${gw.token}` } });
    assert.equal(res.status, status, path);
    return (await res.json()) as T;
  };

  before(async () => {
    upstream = await startFakeUpstream();
    gw = await startGatewayProcess({
      ...(storeUri !== undefined ? { storage: { uri: storeUri } } : {}),
      gateway: { model: { baseUrl: upstream.baseUrl, model: "fake-model", maxRetries: 0 } },
    });
    client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: gw.token, maxRetries: 0 });
  });
  after(async () => {
    await browser?.close();
    assert.equal(await gw.stop(), 0);
    await upstream.close();
  });

  it("each turn adds the upstream's usage to its session, streamed or not; without usage the turn is estimated and marked", async () => {
    const first = await client.chat.completions.create({ model: "fake-model", messages: [{ role: "user", content: "one two three" }] }, key("dm:web:u1"));
    const stream = await client.chat.completions.create({ model: "fake-model", messages: [{ role: "user", content: "four five" }], stream: true, stream_options: { include_usage: true } }, key("dm:web:u1"));
    let streamed: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) if (chunk.usage) streamed = chunk.usage;
    assert.ok(first.usage && streamed);
    const doc = await admin<Session>("/sessions/dm:web:u1");
    const u = doc.context.usage as SessionUsage;
    assert.equal(u.turns, 2);
    assert.equal(u.estimatedTurns, 0);
    assert.equal(u.input, first.usage.prompt_tokens + streamed.prompt_tokens);
    assert.equal(u.output, first.usage.completion_tokens + streamed.completion_tokens);
    assert.equal(u.total, first.usage.total_tokens + streamed.total_tokens);
    assert.equal(u.lastContextTokens, streamed.prompt_tokens);
    assert.deepEqual(
      doc.messages.filter((m) => m.role === "assistant").map((m) => m.usage?.total),
      [first.usage.total_tokens, streamed.total_tokens],
    );

    upstream.omitUsage = true;
    try {
      await client.chat.completions.create({ model: "fake-model", messages: [{ role: "user", content: "no usage here" }] }, key("dm:web:u2"));
    } finally {
      upstream.omitUsage = false;
    }
    const estimated = await admin<Session>("/sessions/dm:web:u2");
    assert.equal(estimated.context.usage?.estimatedTurns, 1);
    assert.equal(estimated.messages.at(-1)?.usage?.estimated, true);
    assert.ok((estimated.context.usage?.input ?? 0) > 0 && (estimated.context.usage?.output ?? 0) > 0);
  });

  it("the admin API lists usage with each session and reports it by channel, day and session", async () => {
    const list = await admin<{ sessions: Array<{ key: string; usage: SessionUsage | null }> }>("/sessions");
    assert.equal(list.sessions.find((s) => s.key === "dm:web:u1")?.usage?.turns, 2);
    const bySession = await admin<UsageReport>("/usage?by=session&since=1d");
    assert.deepEqual(bySession.rows.map((r) => [r.key, r.turns]).sort(), [
      ["dm:web:u1", 2],
      ["dm:web:u2", 1],
    ]);
    const byChannel = await admin<UsageReport>("/usage");
    assert.deepEqual(
      byChannel.rows.map((r) => [r.group, r.turns, r.estimatedTurns]),
      [["web", 3, 1]],
    );
    assert.equal((await admin<UsageReport>("/usage?by=day")).totals.total, byChannel.totals.total);
    await admin("/usage?by=week", 400);
    await admin("/usage?since=yesterday", 400);
  });

  it("the dashboard shows the tokens used in the list and on the session page", async () => {
    browser = await launchBrowser();
    const page = await browser.newPage();
    const total = (await admin<Session>("/sessions/dm:web:u1")).context.usage?.total ?? 0;
    await page.goto(`${gw.url}/#token=${encodeURIComponent(gw.token)}`);
    const row = page.getByRole("row").filter({ has: page.getByRole("link", { name: "dm:web:u1" }) });
    await row.waitFor();
    assert.ok(await page.getByRole("columnheader", { name: "Tokens used" }).isVisible());
    assert.match((await row.textContent()) ?? "", new RegExp(total.toLocaleString("en-US")));
    const estimatedRow = page.getByRole("row").filter({ has: page.getByRole("link", { name: "dm:web:u2" }) });
    assert.match((await estimatedRow.textContent()) ?? "", /~\d/, "an estimated total is marked");
    await page.getByRole("link", { name: "dm:web:u1" }).click();
    await page.locator("#tokens-used").waitFor();
    assert.match((await page.locator("#tokens-used").textContent()) ?? "", new RegExp(`Tokens used: .* ${total.toLocaleString("en-US")} total over 2 model call`));
  });
});
