import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { OpenAICompatibleConfig } from "../../src/context/openai.js";
import { createSummarizer, type SummarizeInput } from "../../src/context/summarizer.js";
import { completion, useFakeOpenAI } from "../helpers/context-fake-openai.js";
import { msg } from "../helpers/context-fixtures.js";
import { openTestManager } from "../helpers/manager-open.js";

const input: SummarizeInput = {
  previous: null,
  messages: [
    msg(0, { role: "user", sender: "alice", content: "Hi there. My hotel reservation is RSV-8812-ZT and the flight is BA249 on 12 May 2025." }),
    msg(1, { role: "assistant", content: "Thanks. The purchase order PO-2025-000731 covers the hotel; call +44 20 7946 0958 for changes." }),
    msg(2, { role: "user", sender: "alice", content: "Great, the booking code is X7K2QD." }),
  ],
  maxTokens: 400,
};

describe("openai-compatible summarizer: identifier policy", () => {
  const fake = useFakeOpenAI();
  const config = (over: Partial<OpenAICompatibleConfig> = {}): OpenAICompatibleConfig => ({
    type: "openai-compatible",
    baseUrl: fake.baseUrl,
    model: "llama3.1:8b",
    timeoutMs: 2_000,
    maxRetries: 0,
    maxTokens: 400,
    ...over,
  });

  it("asks for the sections and rolls the previous summary in", async () => {
    fake.script({ status: 200, body: completion("Facts:\n- RSV-8812-ZT, BA249, 12 May 2025, PO-2025-000731, +44 20 7946 0958, X7K2QD") });
    const previous = { text: "Facts:\n- [user alice] The budget is $12,000.", tokens: 20, messageCount: 4, throughMessageId: "x", updatedAt: "2026-02-01T08:00:00.000Z", summarizer: "openai-compatible" };
    await createSummarizer(config(), {}).summarizeWithFallback({ ...input, previous });
    const body = JSON.parse(fake.requests[0]?.body ?? "{}") as { messages: Array<{ content: string }> };
    const system = body.messages[0]?.content ?? "";
    for (const title of ["Who and what:", "Preferences and constraints:", "Decisions:", "Open questions and pending tasks:", "Facts:"]) assert.ok(system.includes(title), title);
    assert.match(body.messages[1]?.content ?? "", /Previous summary:\nFacts:\n- \[user alice\] The budget is \$12,000\./);
  });

  it("puts an identifier the model dropped back, verbatim with its sentence", async () => {
    // The model kept five of six identifiers and lost the reservation code.
    fake.script({ status: 200, body: completion("Who and what:\n- Alice is planning a trip.\nFacts:\n- Flight BA249 on 12 May 2025; PO-2025-000731 pays; phone +44 20 7946 0958; booking X7K2QD.") });
    const r = await createSummarizer(config(), {}).summarizeWithFallback(input);
    assert.equal(r.summarizer, "openai-compatible");
    assert.equal(r.fallbackError, undefined);
    assert.ok(r.text.startsWith("Who and what:\n- Alice is planning a trip."), r.text);
    assert.match(r.text, /\nFacts:\n- \[user alice\] My hotel reservation is RSV-8812-ZT and the flight is BA249 on 12 May 2025\.$/);
  });

  it("rejects a summary that lost more identifiers than it kept, and says why", async () => {
    fake.script({ status: 200, body: completion("Alice is travelling soon and has a hotel.") });
    const r = await createSummarizer(config(), {}).summarizeWithFallback(input);
    assert.match(r.fallbackError ?? "", /openai-compatible failed: model llama3\.1:8b at .*: summary rejected: it lost 6 of 6 identifiers/);
    assert.match(r.summarizer, /^extractive \(fallback: /);
    for (const id of ["RSV-8812-ZT", "BA249", "PO-2025-000731", "+44 20 7946 0958", "X7K2QD"]) assert.ok(r.text.includes(id), id);
  });

  it("rejects a summary over its token limit", async () => {
    fake.script({ status: 200, body: completion(`RSV-8812-ZT BA249 X7K2QD ${"very long summary ".repeat(400)}`) });
    const r = await createSummarizer(config(), {}).summarizeWithFallback(input);
    assert.match(r.fallbackError ?? "", /summary rejected: \d+ tokens, over its limit of 400/);
  });

  it('with identifiers "off", keeps the reply as written', async () => {
    fake.script({ status: 200, body: completion("Alice is travelling soon.") });
    const r = await createSummarizer(config({ identifiers: "off" }), {}).summarizeWithFallback(input);
    assert.deepEqual(r, { text: "Alice is travelling soon.", summarizer: "openai-compatible" });
  });

  it("does not restore a value a later message replaced", async () => {
    const messages = [msg(0, { role: "user", content: "The budget is $12,000 for the offsite." }), msg(1, { role: "user", content: "Update: the budget is now $15,000." })];
    fake.script({ status: 200, body: completion("Facts:\n- The budget is now $15,000.") });
    const r = await createSummarizer(config(), {}).summarizeWithFallback({ previous: null, messages, maxTokens: 400 });
    assert.equal(r.text, "Facts:\n- The budget is now $15,000.");
  });

  it("through the manager: a rejected summary is replaced by the extractive one and the reason recorded on the session", async () => {
    fake.script({ status: 200, body: completion("They chatted about travel.") });
    const env = await openTestManager({
      storeUri: "memory:",
      config: { sessions: { maxHistoryLength: 4, summarizer: { type: "openai-compatible", baseUrl: fake.baseUrl, model: "llama3.1:8b", maxRetries: 0 } } },
    });
    try {
      const s = await env.manager.create({ key: "dm:web:alice" });
      for (const m of input.messages) await env.manager.record({ ref: s.id }, { role: m.role, content: m.content });
      await env.manager.record({ ref: s.id }, { role: "assistant", content: "Anything else?" });
      await env.manager.record({ ref: s.id }, { role: "user", content: "No, thanks." });
      await env.manager.idle();
      const after = await env.manager.get(s.id);
      assert.match(after.context.lastSummarizerError ?? "", /summary rejected: it lost \d+ of \d+ identifiers/);
      assert.match(after.summary?.summarizer ?? "", /^extractive \(fallback: openai-compatible failed: .*summary rejected/);
      assert.ok(after.summary?.text.includes("RSV-8812-ZT"), after.summary?.text);
    } finally {
      await env.cleanup();
    }
  });
});
