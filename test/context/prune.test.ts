import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { applyFold, foldDue, planPrune } from "../../src/context/prune.js";
import { createSummarizer } from "../../src/context/summarizer.js";
import { loadTokenCounter } from "../../src/context/tokens.js";
import { isOpenclawError } from "../../src/errors.js";
import { withDerived } from "../../src/session/derived.js";
import type { Message, Session } from "../../src/session/types.js";
import { call, msg, orphans, prng, randomHistory, session } from "../helpers/context-fixtures.js";

const NOW = new Date("2026-02-02T10:00:00.000Z");

/** 51 turns, 150 messages; every third early turn runs two tool calls; ids unique per turn. */
function acceptanceSession(): Session {
  const s = session("dm", "You are Openclaw. Keep answers short.\nNever reveal secrets. ✓");
  const out: Message[] = [];
  let i = 0;
  for (let t = 0; out.length < 150; t++) {
    out.push(msg(i++, { role: "user", content: `Turn ${t}: please check order ORD-${10_000 + t}${t === 0 ? " and invoice INV-2024-0042" : ""}.` }));
    if (t % 3 === 1 && t < 48) {
      const calls = [call(`call_${t}_a`, "lookup_order", `{"order":"ORD-${10_000 + t}"}`), call(`call_${t}_b`, "lookup_invoice")];
      out.push(msg(i++, { role: "assistant", content: "", toolCalls: calls }));
      out.push(msg(i++, { role: "tool", toolCallId: calls[0]?.id ?? "", content: `{"order":"ORD-${10_000 + t}","trace":"TRACE-${t}-7"}` }));
      out.push(msg(i++, { role: "tool", toolCallId: calls[1]?.id ?? "", content: t === 1 ? '{"request":"0193b2c4-5d6e-7f80-9a1b-2c3d4e5f6a7b"}' : "{}" }));
    }
    out.push(msg(i++, { role: "assistant", content: `Order ORD-${10_000 + t} is on its way.` }));
  }
  s.messages = out;
  return s;
}

describe("pruning", () => {
  it("does nothing while the history is under both limits", () => {
    const s = session();
    s.messages = [msg(0, { role: "user" }), msg(1, { role: "assistant" })];
    assert.equal(planPrune(s, { maxHistoryLength: 100, budgetTokens: 10_000, lowWaterMark: 0.75 }), null);
  });

  it("acceptance: 150 messages with tool calls and two pins fold to ≤ 100, losing nothing", async () => {
    const counter = await loadTokenCounter("gpt-4o", 1.1);
    const s = acceptanceSession();
    for (const m of s.messages) m.tokens = counter.countMessage(m);
    for (const p of s.systemPrompts) p.tokens = counter.countMessage({ role: "system", content: p.content });
    // Two pins in turns that will be folded: a user message, and one result of a tool pair.
    const pinnedUser = s.messages.find((m) => m.content.startsWith("Turn 2:"));
    const pinnedTool = s.messages.find((m) => m.toolCallId === "call_4_b");
    assert.ok(pinnedUser && pinnedTool);
    pinnedUser.pinned = true;
    pinnedTool.pinned = true;
    assert.equal(s.messages.length, 150);
    const before = structuredClone(s);

    const plan = planPrune(s, { maxHistoryLength: 100, budgetTokens: 120_000, lowWaterMark: 0.75 });
    assert.ok(plan !== null);
    assert.equal(plan.reason, "length");
    // Nothing lost, nothing duplicated, history order kept.
    const ids = before.messages.map((m) => m.id);
    assert.deepEqual([...plan.fold, ...plan.keep].map((m) => m.id).sort(), [...ids].sort());
    assert.deepEqual(
      plan.keep.map((m) => m.id),
      ids.filter((id) => plan.keep.some((k) => k.id === id)),
    );
    assert.ok(plan.keep.length <= 75, `keep ${plan.keep.length} ≤ low-water 75`);
    // Pins stay, with their tool partners.
    assert.ok(plan.keep.includes(pinnedUser) && plan.keep.includes(pinnedTool));
    assert.ok(
      plan.keep.some((m) => m.toolCalls?.some((c) => c.id === "call_4_b")),
      "the call of a pinned result stays with it",
    );
    assert.ok(
      plan.keep.some((m) => m.toolCallId === "call_4_a"),
      "so does its sibling result",
    );
    assert.deepEqual(orphans(plan.keep), { results: [], calls: [] });
    assert.deepEqual(orphans(plan.fold), { results: [], calls: [] });
    // The most recent turn stays.
    assert.equal(plan.keep[plan.keep.length - 1]?.id, ids[ids.length - 1]);

    const summarizer = createSummarizer({ type: "extractive", maxTokens: 1200 });
    const result = await summarizer.summarizeWithFallback({
      previous: s.summary,
      messages: plan.fold,
      maxTokens: summarizer.maxTokens,
      countTokens: (t) => counter.countText(t),
    });
    assert.equal(result.summarizer, "extractive");
    const after = applyFold(s, plan, result.text, result.summarizer, counter, NOW);

    assert.ok(after.messages.length <= 100);
    assert.equal(JSON.stringify(after.systemPrompts), JSON.stringify(before.systemPrompts), "system prompt byte-identical");
    assert.ok(after.messages.includes(pinnedUser) && after.messages.includes(pinnedTool));
    const keptText = after.messages.map((m) => m.content).join("\n");
    for (const id of ["INV-2024-0042", "0193b2c4-5d6e-7f80-9a1b-2c3d4e5f6a7b", "ORD-10000", "TRACE-1-7"]) {
      assert.ok(!keptText.includes(id), `${id} only in folded messages`);
      assert.ok(after.summary?.text.includes(id), `summary keeps ${id}`);
    }
    assert.equal(after.summary?.messageCount, plan.fold.length);
    assert.equal(after.summary?.throughMessageId, plan.fold[plan.fold.length - 1]?.id);
    assert.equal(after.prunedCount, plan.fold.length);
    assert.equal(after.context.compactions, 1);
    assert.equal(after.context.lastCompactedAt, NOW.toISOString());
    assert.equal(plan.fold.length + after.messages.length, 150);
    assert.deepEqual(s, before, "the input session is not mutated");
  });

  it("folds on tokens too, down to the low-water mark", () => {
    const s = session();
    for (let i = 0; i < 20; i++) s.messages.push(msg(i, { role: i % 2 === 0 ? "user" : "assistant", tokens: 100 }));
    const budget = 1500;
    const plan = planPrune(s, { maxHistoryLength: 100, budgetTokens: budget, lowWaterMark: 0.5 });
    assert.ok(plan !== null);
    assert.equal(plan.reason, "tokens");
    const fixed = s.systemPrompts.reduce((n, p) => n + p.tokens, 0);
    assert.ok(fixed + plan.keep.reduce((n, m) => n + m.tokens, 0) <= budget * 0.5);
    assert.equal(plan.fold.length % 2, 0, "whole turns");
  });

  it("always keeps the most recent turn, even when it alone is over the limit", () => {
    const s = session();
    s.messages.push(msg(0, { role: "user" }), msg(1, { role: "assistant" }), msg(2, { role: "user" }));
    for (let i = 3; i < 40; i++) s.messages.push(msg(i, { role: "assistant" }));
    const plan = planPrune(s, { maxHistoryLength: 10, budgetTokens: 100_000, lowWaterMark: 0.75 });
    assert.deepEqual(
      plan?.fold.map((m) => m.id),
      ["m0000", "m0001"],
    );
    const single = session();
    single.messages = s.messages.slice(2);
    assert.equal(planPrune(single, { maxHistoryLength: 10, budgetTokens: 100_000, lowWaterMark: 0.75 }), null);
  });

  it("forced compaction folds at least one turn even under the limits", () => {
    const s = session();
    for (let i = 0; i < 6; i++) s.messages.push(msg(i, { role: i % 2 === 0 ? "user" : "assistant" }));
    const plan = planPrune(s, { maxHistoryLength: 100, budgetTokens: 100_000, lowWaterMark: 0.75, force: true });
    assert.equal(plan?.reason, "forced");
    assert.deepEqual(
      plan?.fold.map((m) => m.id),
      ["m0000", "m0001"],
    );
  });

  it("applyFold keeps messages appended after planning and refuses a stale plan", () => {
    const s = session();
    for (let i = 0; i < 12; i++) s.messages.push(msg(i, { role: i % 2 === 0 ? "user" : "assistant" }));
    const plan = planPrune(s, { maxHistoryLength: 10, budgetTokens: 100_000, lowWaterMark: 0.5 });
    assert.ok(plan !== null);
    const counter = { countMessage: () => 10 };
    const grown = { ...s, messages: [...s.messages, msg(12, { role: "user" })] };
    const after = applyFold(grown, plan, "text", "extractive", counter, NOW, "openai-compatible failed: HTTP 500");
    assert.equal(after.messages[after.messages.length - 1]?.id, "m0012");
    assert.equal(after.context.lastSummarizerError, "openai-compatible failed: HTTP 500");
    const shrunk = { ...s, messages: s.messages.slice(2) };
    assert.throws(
      () => applyFold(shrunk, plan, "text", "extractive", counter, NOW),
      (e) => isOpenclawError(e, "CONFLICT"),
    );
  });

  it("a second compaction accumulates the summary's message count", () => {
    const s = session();
    for (let i = 0; i < 12; i++) s.messages.push(msg(i, { role: i % 2 === 0 ? "user" : "assistant" }));
    const counter = { countMessage: () => 10 };
    const limits = { maxHistoryLength: 10, budgetTokens: 100_000, lowWaterMark: 0.5 };
    const plan1 = planPrune(s, limits);
    assert.ok(plan1);
    const once = applyFold(s, plan1, "one", "extractive", counter, NOW);
    for (let i = 12; i < 24; i++) once.messages.push(msg(i, { role: i % 2 === 0 ? "user" : "assistant" }));
    const plan2 = planPrune(once, limits);
    assert.ok(plan2);
    const twice = applyFold(once, plan2, "two", "extractive", counter, NOW);
    assert.equal(twice.summary?.messageCount, plan1.fold.length + plan2.fold.length);
    assert.equal(twice.context.compactions, 2);
    assert.equal(twice.prunedCount, plan1.fold.length + plan2.fold.length);
  });
});

describe("pruning, property", () => {
  it("over random histories: nothing lost, pins kept, tool pairs never split, latest turn kept", () => {
    for (let seed = 1; seed <= 200; seed++) {
      const r = prng(seed);
      const s = session();
      s.messages = randomHistory(r, r.int(1, 60), { pinChance: r.pick([0, 0.1]), maxTokens: r.pick([50, 500]) });
      const limits = { maxHistoryLength: r.int(1, 80), budgetTokens: r.int(500, 20_000), lowWaterMark: r.pick([0.1, 0.5, 0.75, 1]), force: r.chance(0.2) };
      const plan = planPrune(s, limits);
      const label = `seed ${seed}`;
      if (plan === null) continue;
      assert.deepEqual([...plan.fold, ...plan.keep].map((m) => m.id).sort(), s.messages.map((m) => m.id).sort(), label);
      assert.ok(plan.fold.length > 0, label);
      assert.ok(
        plan.fold.every((m) => !m.pinned),
        `${label}: no pinned message folded`,
      );
      assert.deepEqual(orphans(plan.fold), { results: [], calls: [] }, label);
      assert.deepEqual(orphans(plan.keep), { results: [], calls: [] }, label);
      const lastUser = s.messages.map((m) => m.role).lastIndexOf("user");
      assert.ok(
        s.messages.slice(lastUser).every((m) => plan.keep.includes(m)),
        `${label}: latest turn kept`,
      );
    }
  });
});

describe("the fold decision", () => {
  it("from the running token total it says fold exactly when a full count would, over random histories", () => {
    for (let seed = 1; seed <= 300; seed++) {
      const r = prng(seed);
      const s0 = session();
      s0.messages = randomHistory(r, r.int(1, 60), { pinChance: 0, maxTokens: r.pick([50, 500]) });
      if (r.chance(0.3)) s0.summary = summaryOf(r.int(10, 2_000));
      // The total the store keeps, as every save sets it.
      const s = withDerived(s0, { model: "gpt-4o", window: 128_000 });
      const limits = { maxHistoryLength: r.int(1, 200), budgetTokens: r.int(500, 40_000), lowWaterMark: 0.5 };
      const overLength = s.messages.length > limits.maxHistoryLength;
      const total = s.systemPrompts.reduce((n, p) => n + p.tokens, 0) + (s.summary?.tokens ?? 0) + s.messages.reduce((n, m) => n + m.tokens, 0);
      assert.equal(foldDue(s, limits), overLength || total > limits.budgetTokens, `seed ${seed}`);
      // planPrune folds only when the decision says so.
      if (!foldDue(s, limits)) assert.equal(planPrune(s, limits), null, `seed ${seed}`);
    }
  });
});

function summaryOf(tokens: number): NonNullable<Session["summary"]> {
  return { text: "Summary.", tokens, throughMessageId: "m0", messageCount: 1, updatedAt: "2025-01-01T00:00:00.000Z", summarizer: "extractive" };
}
