import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { buildContext, contextUsage, summaryNote, type ChatMessage } from "../../src/context/build.js";
import { createTokenCounter } from "../../src/context/tokens.js";
import { isOpenclawError } from "../../src/errors.js";
import type { Session, Summary } from "../../src/session/types.js";
import { T0, call, msg, prng, randomHistory, session } from "../helpers/context-fixtures.js";

function withSummary(s: Session, text: string, tokens: number): Session {
  const summary: Summary = { text, tokens, messageCount: 10, throughMessageId: "old", updatedAt: T0.toISOString(), summarizer: "extractive" };
  return { ...s, summary };
}

/** Every tool_calls id is answered right after its message, and every tool message answers the call just before it. */
function assertNoOrphans(messages: readonly ChatMessage[]): void {
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i];
    if (m?.tool_calls !== undefined) {
      const ids = m.tool_calls.map((c) => c.id);
      const answers = messages.slice(i + 1, i + 1 + ids.length).map((r) => (r.role === "tool" ? r.tool_call_id : undefined));
      assert.deepEqual([...answers].sort(), [...ids].sort(), `call at ${i} answered right after it`);
      assert.ok(ids.length > 0);
    }
    if (m?.role === "tool") {
      let j = i - 1;
      while (j >= 0 && messages[j]?.role === "tool") j--;
      assert.ok(
        messages[j]?.tool_calls?.some((c) => c.id === m.tool_call_id),
        `result at ${i} follows its call`,
      );
    }
  }
}

describe("building the context", () => {
  it("sends system prompts, the summary note, older pinned messages, then recent turns, in order", () => {
    let s = session();
    s.messages = [
      msg(0, { role: "user", content: "old pinned", pinned: true, tokens: 10 }),
      msg(1, { role: "assistant", content: "old reply", tokens: 10 }),
      msg(2, { role: "user", content: "middle", tokens: 500 }),
      msg(3, { role: "assistant", content: "middle reply", tokens: 10 }),
      msg(4, { role: "user", content: "recent pinned", pinned: true, tokens: 10 }),
      msg(5, { role: "assistant", content: "recent reply", tokens: 10 }),
      msg(6, { role: "user", content: "latest", tokens: 10 }),
    ];
    s = withSummary(s, "Summary of 10 earlier messages", 20);
    const system = s.systemPrompts[0]?.tokens ?? 0;
    const built = buildContext(s, system + 20 + 10 + 30 + 50);
    assert.deepEqual(
      built.messages.map((m) => m.content),
      [s.systemPrompts[0]?.content, summaryNote("Summary of 10 earlier messages"), "old pinned", "recent pinned", "recent reply", "latest"],
    );
    assert.deepEqual(built.parts, { system, summary: 20, pinned: 10, recent: 30 });
    assert.equal(built.tokens, system + 60);
    assert.equal(built.droppedTurns, 2, "the first two turns only contribute their pin");
    assert.deepEqual(built.included, ["m0000", "m0004", "m0005", "m0006"], "a pinned message that is recent appears once, in place");
  });

  it("labels user messages with their sender in group sessions only", () => {
    const g = session("group");
    g.messages = [msg(0, { role: "user", sender: "bob", content: "hi all" }), msg(1, { role: "assistant", content: "hello" })];
    const built = buildContext(g, 10_000);
    assert.deepEqual(built.messages[1], { role: "user", content: "[bob]: hi all", name: "bob" });
    assert.deepEqual(built.messages[2], { role: "assistant", content: "hello" });
    g.messages[0] = msg(0, { role: "user", sender: "Bob Smith (ops)", content: "hi" });
    assert.deepEqual(buildContext(g, 10_000).messages[1], { role: "user", content: "[Bob Smith (ops)]: hi" }, "no name field the API would reject");
    const dm = session("dm");
    dm.messages = [msg(0, { role: "user", sender: "bob", content: "hi all" })];
    assert.deepEqual(buildContext(dm, 10_000).messages[1], { role: "user", content: "hi all" });
  });

  it("sends tool calls in the OpenAI shape, strips unanswered calls and leaves out orphan results", () => {
    const s = session();
    s.messages = [
      msg(0, { role: "user" }),
      msg(1, { role: "assistant", content: "checking", toolCalls: [call("c1", "lookup", '{"id":1}'), call("c2", "missing")] }),
      msg(2, { role: "tool", toolCallId: "c1", content: "found" }),
      msg(3, { role: "tool", toolCallId: "gone", content: "orphan" }),
      msg(4, { role: "assistant", content: "", toolCalls: [call("c3")] }),
    ];
    const built = buildContext(s, 10_000);
    assert.deepEqual(built.messages.slice(2), [
      { role: "assistant", content: "checking", tool_calls: [{ id: "c1", type: "function", function: { name: "lookup", arguments: '{"id":1}' } }] },
      { role: "tool", content: "found", tool_call_id: "c1" },
    ]);
    assertNoOrphans(built.messages);
  });

  it("throws CONFIG_INVALID when the system prompts alone exceed the budget", () => {
    const s = session();
    const need = s.systemPrompts[0]?.tokens ?? 0;
    assert.throws(
      () => buildContext(s, need - 1),
      (e) => isOpenclawError(e, "CONFIG_INVALID") && /sessions\.contextWindow/.test(e.message),
    );
  });

  it("truncates an oversized summary with a counter, and leaves it out without one", () => {
    const long = Array.from({ length: 40 }, (_, i) => `- [user] line ${i} with REF-${i}`).join("\n");
    const counter = createTokenCounter((t) => Math.ceil(t.length / 4), "gpt-4o", 1);
    let s = session();
    s.messages = [msg(0, { role: "user", tokens: 10 })];
    s = withSummary(s, long, counter.countMessage({ role: "system", content: summaryNote(long) }));
    const budget = (s.systemPrompts[0]?.tokens ?? 0) + 10 + 100;
    const cut = buildContext(s, budget, { counter });
    assert.equal(cut.summary, "truncated");
    assert.ok(cut.tokens <= budget);
    assert.match(cut.messages[1]?.content ?? "", /^Summary of earlier conversation:\n- \[user\] line 0 with REF-0\n[\s\S]*\[summary truncated/);
    const none = buildContext(s, budget);
    assert.equal(none.summary, "dropped");
    assert.equal(none.messages.length, 2);
  });

  it("drops the oldest pinned messages first when they do not all fit", () => {
    const s = session();
    s.messages = [msg(0, { role: "user", pinned: true, tokens: 40 }), msg(1, { role: "user", pinned: true, tokens: 40 }), msg(2, { role: "user", tokens: 10 })];
    const built = buildContext(s, (s.systemPrompts[0]?.tokens ?? 0) + 10 + 50);
    assert.deepEqual(built.included, ["m0001", "m0002"]);
    assert.equal(built.droppedPinned, 1);
  });

  it("keeps the opening message and the newest part of a latest turn that does not fit", () => {
    const s = session();
    s.messages = [
      msg(0, { role: "user", tokens: 10 }),
      msg(1, { role: "assistant", tokens: 10 }),
      msg(2, { role: "user", content: "question", tokens: 20 }),
      msg(3, { role: "assistant", content: "", toolCalls: [call("a")], tokens: 30 }),
      msg(4, { role: "tool", toolCallId: "a", tokens: 300 }),
      msg(5, { role: "assistant", content: "", toolCalls: [call("b")], tokens: 30 }),
      msg(6, { role: "tool", toolCallId: "b", tokens: 30 }),
    ];
    const built = buildContext(s, (s.systemPrompts[0]?.tokens ?? 0) + 100);
    assert.equal(built.latestTurnPartial, true);
    assert.deepEqual(built.included, ["m0002", "m0005", "m0006"]);
    assertNoOrphans(built.messages);
  });

  it("property: never over budget, chronological, no duplicates, no orphaned tool messages", () => {
    const seen = { droppedTurns: 0, truncated: 0, partial: 0, droppedPinned: 0 };
    for (let seed = 1; seed <= 300; seed++) {
      const r = prng(seed);
      let s = session(r.chance(0.3) ? "group" : "dm");
      s.systemPrompts[0] = { ...(s.systemPrompts[0] ?? { id: "sp", content: "", createdAt: T0.toISOString() }), tokens: r.int(1, 200) };
      s.messages = randomHistory(r, r.int(0, 40), { pinChance: r.pick([0, 0.05, 0.3]), maxTokens: r.pick([20, 200, 2000]) });
      // Damaged histories too: a lost call or result leaves orphans the builder must not send.
      if (r.chance(0.2) && s.messages.length > 0) s.messages.splice(r.int(0, s.messages.length - 1), 1);
      // And a tool result that arrived after the next user message.
      const late = s.messages.findIndex((m, i) => m.role === "tool" && i > r.int(0, s.messages.length));
      if (r.chance(0.2) && late >= 0) {
        const [moved] = s.messages.splice(late, 1);
        if (moved) s.messages.splice(r.int(late, s.messages.length), 0, moved);
      }
      if (r.chance(0.6)) s = withSummary(s, "Summary of earlier things\n- [user] REF-1\n- [user] REF-2", r.int(5, 1500));
      const counter = r.chance(0.5) ? createTokenCounter((t) => Math.ceil(t.length / 3), "gpt-4o", 1) : undefined;
      const budget = r.int(1, 8000);
      const system = s.systemPrompts[0]?.tokens ?? 0;
      const label = `seed ${seed}`;
      if (system > budget) {
        assert.throws(
          () => buildContext(s, budget, counter ? { counter } : {}),
          (e) => isOpenclawError(e, "CONFIG_INVALID"),
          label,
        );
        continue;
      }
      const built = buildContext(s, budget, counter ? { counter } : {});
      assert.ok(built.tokens <= budget, `${label}: ${built.tokens} > ${budget}`);
      const index = new Map(s.messages.map((m, i) => [m.id, i]));
      const cached = built.included.reduce((n, id) => n + (s.messages[index.get(id) ?? -1]?.tokens ?? 0), 0);
      assert.equal(built.parts.pinned + built.parts.recent, cached, `${label}: parts match cached counts`);
      assert.equal(built.tokens, built.parts.system + built.parts.summary + built.parts.pinned + built.parts.recent, label);
      assert.equal(new Set(built.included).size, built.included.length, `${label}: no duplicates`);
      const positions = built.included.map((id) => index.get(id) ?? -1);
      // Tool results may sit after a later message in history but are sent right after their call.
      const heads = positions.filter((_, k) => s.messages[positions[k] ?? -1]?.role !== "tool");
      assert.deepEqual(
        heads,
        [...heads].sort((a, b) => a - b),
        `${label}: chronological`,
      );
      assert.equal(built.messages[0]?.role, "system", label);
      assert.equal(built.messages.length, 1 + (built.summary === "full" || built.summary === "truncated" ? 1 : 0) + built.included.length, label);
      assertNoOrphans(built.messages);
      if (built.droppedTurns > 0) seen.droppedTurns++;
      if (built.summary === "truncated") seen.truncated++;
      if (built.latestTurnPartial) seen.partial++;
      if (built.droppedPinned > 0) seen.droppedPinned++;
    }
    // The generator must actually reach the tight corners.
    for (const [what, n] of Object.entries(seen)) assert.ok(n >= 5, `only ${n} cases with ${what}`);
  });
});

describe("a caller's instructions for one call", () => {
  const history = (): Session => {
    let s = session();
    s.messages = [msg(0, { role: "user", content: "first", tokens: 100 }), msg(1, { role: "assistant", content: "first reply", tokens: 100 }), msg(2, { role: "user", content: "latest", tokens: 100 })];
    s = withSummary(s, "Summary of 10 earlier messages", 50);
    return s;
  };
  const counter = createTokenCounter((t) => Math.ceil(t.length / 4), "gpt-4o", 1);

  it("go right after the session's system prompts and before the summary, and are counted with them", () => {
    const s = history();
    const system = s.systemPrompts[0]?.tokens ?? 0;
    const instructions = "Bot persona: be terse.";
    const cost = counter.countMessage({ role: "system", content: instructions });
    const built = buildContext(s, 100_000, { counter, instructions });
    assert.deepEqual(
      built.messages.map((m) => [m.role, m.content]),
      [
        ["system", s.systemPrompts[0]?.content],
        ["system", instructions],
        ["system", summaryNote("Summary of 10 earlier messages")],
        ["user", "first"],
        ["assistant", "first reply"],
        ["user", "latest"],
      ],
    );
    assert.equal(built.parts.system, system + cost);
    assert.equal(built.tokens, system + cost + 50 + 300);
  });

  it("take their room from older turns, never push the context over the budget", () => {
    const s = history();
    const system = s.systemPrompts[0]?.tokens ?? 0;
    const budget = system + 50 + 300;
    assert.equal(buildContext(s, budget, { counter }).droppedTurns, 0, "everything fits without them");
    const with_ = buildContext(s, budget, { counter, instructions: "Keep replies under twenty words, always." });
    assert.ok(with_.tokens <= budget, `${with_.tokens} > ${budget}`);
    assert.equal(with_.droppedTurns, 1, "the older turn gives way");
    assert.deepEqual(with_.included, ["m0002"]);
  });

  it("over the budget by themselves are refused as too large, naming the instructions", () => {
    const s = history();
    const budget = (s.systemPrompts[0]?.tokens ?? 0) + 10;
    assert.throws(
      () => buildContext(s, budget, { counter, instructions: "x".repeat(400) }),
      (e: unknown) => isOpenclawError(e, "MESSAGE_TOO_LARGE") && /system instructions/.test(e.message),
    );
  });
});

describe("context usage", () => {
  it("reports tokens by part against the window and the budget", () => {
    let s = session();
    s.messages = [msg(0, { role: "user", tokens: 100, pinned: true }), msg(1, { role: "assistant", tokens: 300 })];
    s = withSummary(s, "x", 50);
    s.context.compactions = 3;
    const system = s.systemPrompts[0]?.tokens ?? 0;
    const u = contextUsage(s, 8192, 4096);
    assert.deepEqual(u.tokens, { system, summary: 50, pinned: 100, messages: 300, total: system + 450 });
    assert.equal(u.percentOfBudget, Math.round(((system + 450) / 4096) * 1000) / 10);
    assert.equal(u.compactions, 3);
    assert.equal(u.pinnedCount, 1);
    assert.equal(u.summarizedCount, 10);
  });
});
