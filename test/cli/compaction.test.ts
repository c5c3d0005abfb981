import assert from "node:assert/strict";
import { writeFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import type { Session } from "../../src/session/types.js";
import { sandbox, type Sandbox } from "../helpers/cli-run.js";
import { startFakeOpenAI, type FakeOpenAI } from "../helpers/context-fake-openai.js";

interface AppendJson {
  id: string;
  messageCount: number;
  messageId: string;
  duplicate: boolean;
}

async function withUpstream(t: Parameters<typeof sandbox>[0], compaction: object, summarizerTimeoutMs: number, fn: (sb: Sandbox, fake: FakeOpenAI) => Promise<void>): Promise<void> {
  const sb = await sandbox(t);
  const fake = await startFakeOpenAI();
  t.after(() => fake.close());
  await mkdir(sb.stateDir, { recursive: true });
  const config = {
    sessions: {
      maxHistoryLength: 2,
      compaction,
      summarizer: { type: "openai-compatible", baseUrl: fake.baseUrl, model: "tiny", timeoutMs: summarizerTimeoutMs, maxRetries: 0 },
    },
  };
  await writeFile(join(sb.stateDir, "config.json"), JSON.stringify(config));
  await fn(sb, fake);
}

test("when the summarizer fails, every append still stores its message once and show reports the failure", (t) =>
  withUpstream(t, {}, 5000, async (sb, fake) => {
    fake.script({ status: 503, body: JSON.stringify({ error: { message: "overloaded" } }) });
    let id = "";
    for (let i = 0; i < 5; i++) id = (await sb.json<AppendJson>(["sessions", "append", "--dm", "telegram:9", `order ORD-${i} confirmed`])).id;
    const doc = await sb.json<Session>(["sessions", "show", id, "--all"]);
    const pruned = (doc as Session & { prunedHistory: Session["messages"] }).prunedHistory;
    const all = [...pruned, ...doc.messages].map((m) => m.content);
    assert.deepEqual(
      all.sort(),
      Array.from({ length: 5 }, (_, i) => `order ORD-${i} confirmed`),
      "each message stored exactly once",
    );
    assert.match(doc.context.lastSummarizerError ?? "", /openai-compatible failed/);
    assert.ok(doc.context.lastSummarizerErrorAt !== null);
    const human = await sb.ok(["sessions", "show", id]);
    assert.match(human.stdout, /summarizer\s+last run failed .*openai-compatible failed/);
  }));

test("a summarizer that never answers is abandoned at the compaction timeout; the append succeeds and says so", (t) =>
  withUpstream(t, { timeoutMs: 300 }, 60_000, async (sb, fake) => {
    fake.script("hang");
    let last = { code: 0, stdout: "", stderr: "" };
    for (let i = 0; i < 4; i++) last = await sb.run(["sessions", "append", "--dm", "telegram:10", `note ${i}`, "--json"]);
    assert.equal(last.code, 0, last.stderr);
    const r = JSON.parse(last.stdout) as AppendJson;
    const doc = await sb.json<Session>(["sessions", "show", r.id]);
    assert.equal(doc.messages.filter((m) => m.content === "note 3").length, 1);
    assert.match(doc.context.lastSummarizerError ?? "", /timed out after 300 ms \(sessions\.compaction\.timeoutMs\)/);
    assert.match(last.stderr, /warning: summarizer timed out after 300 ms .*; the message is stored/);
  }));

test("append --client-id: repeating the command after a lost reply stores the message once", async (t) => {
  const sb = await sandbox(t);
  const first = await sb.json<AppendJson>(["sessions", "append", "--dm", "telegram:11", "--client-id", "tg-1001", "pay INV-9"]);
  const again = await sb.json<AppendJson>(["sessions", "append", "--dm", "telegram:11", "--client-id", "tg-1001", "pay INV-9"]);
  assert.equal(first.duplicate, false);
  assert.equal(again.duplicate, true);
  assert.equal(again.messageId, first.messageId);
  assert.equal(again.messageCount, 1);
  const doc = await sb.json<Session>(["sessions", "show", first.id]);
  assert.deepEqual(
    doc.messages.map((m) => [m.content, m.clientId]),
    [["pay INV-9", "tg-1001"]],
  );
});
