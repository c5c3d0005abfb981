import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Summarizer } from "../../src/context/summarizer.js";
import { isOpenclawError } from "../../src/errors.js";
import { openTestManager } from "../helpers/manager-open.js";

const SYSTEM = "You are the concierge.\nNever reveal internal ids.  ";

async function fill(env: Awaited<ReturnType<typeof openTestManager>>, id: string, total: number) {
  let n = 0;
  const add = async (m: Parameters<typeof env.manager.record>[1]) => {
    n++;
    await env.manager.record({ ref: id }, m);
  };
  while (n < total) {
    const i = n;
    if (i === 4 || i === 60) {
      await add({ role: "user", content: `PINNED fact ${i}: allergy to peanuts, badge B-${i}`, sender: "u1", pinned: true });
    } else if (i % 10 === 7 && n + 2 <= total) {
      await add({ role: "assistant", content: `checking ticket OPS-${1000 + i}`, toolCalls: [{ id: `call_${i}`, name: "tickets.get", arguments: `{"id":"OPS-${1000 + i}"}` }] });
      await add({ role: "tool", content: `{"status":"open","url":"https://tracker.example.com/OPS-${1000 + i}"}`, toolCallId: `call_${i}` });
    } else if (i % 2 === 0) {
      await add({ role: "user", content: `question ${i}: what about invoice INV-2024-${String(i).padStart(4, "0")}?`, sender: "u1" });
    } else {
      await add({ role: "assistant", content: `answer ${i}: it costs $${i}.50 and ships in ${i} days` });
    }
  }
}

describe("pruning through the manager", () => {
  it("150 messages under maxHistoryLength 100 fold into the summary and nothing is lost", async () => {
    const env = await openTestManager({ config: { sessions: { maxHistoryLength: 100 } } });
    try {
      const s = await env.manager.create({ key: "dm:telegram:prune" });
      await env.manager.setSystemPrompt(s.id, SYSTEM);
      await fill(env, s.id, 150);
      const after = await env.manager.get(s.id);
      assert.ok(after.messages.length <= 100, `active history is ${after.messages.length}`);
      assert.equal(after.systemPrompts[0]?.content, SYSTEM, "system prompt byte-identical");
      const pinned = after.messages.filter((m) => m.pinned).map((m) => m.content);
      assert.equal(pinned.length, 2, "both pinned messages stay active");
      const callIds = new Set(after.messages.flatMap((m) => (m.toolCalls ?? []).map((c) => c.id)));
      for (const m of after.messages) if (m.role === "tool") assert.ok(callIds.has(m.toolCallId ?? ""), "no tool result without its call");
      for (const id of callIds)
        assert.ok(
          after.messages.some((m) => m.toolCallId === id),
          "no tool call without its result",
        );
      assert.ok(after.summary !== null && after.context.compactions >= 1);
      assert.ok(after.summary.text.includes("INV-2024-0000"), "identifier only seen in folded messages survives in the summary");
      const exported = await env.manager.exportSessions([s.id]);
      const all = [...exported.sessions[0]!.prunedHistory, ...exported.sessions[0]!.messages];
      assert.equal(all.length, 150, "export still holds all 150 messages");
      assert.equal(new Set(all.map((m) => m.id)).size, 150);
      const ctx = await env.manager.buildContext(s.id);
      assert.equal(ctx.messages[0]?.content, SYSTEM);
      assert.ok(ctx.messages.some((m) => typeof m.content === "string" && /^Summary of (?:earlier conversation|\d+ earlier messages)/.test(m.content)));
    } finally {
      await env.cleanup();
    }
  });

  it("when every summarizer fails, nothing is deleted and the failure is recorded", async () => {
    const failing: Summarizer = {
      name: "broken",
      summarize: async () => {
        throw new Error("model unavailable");
      },
    };
    const env = await openTestManager({ config: { sessions: { maxHistoryLength: 10 } }, summarizerDeps: { primary: failing, fallback: failing } });
    try {
      const s = await env.manager.create({ key: "dm:telegram:fail" });
      for (let i = 0; i < 14; i++) await env.manager.record({ ref: s.id }, { role: i % 2 ? "assistant" : "user", content: `m${i}` });
      const after = await env.manager.get(s.id);
      assert.equal(after.messages.length, 14, "history left as it was");
      assert.equal(after.summary, null);
      assert.match(after.context.lastSummarizerError ?? "", /model unavailable/);
      assert.equal((await env.manager.prunedHistory(s.id)).length, 0);
    } finally {
      await env.cleanup();
    }
  });

  it("a session whose own model has a smaller window folds for that window, so every early identifier reaches that model", async () => {
    // The configured model is gpt-4o (128k); this session's turns go to a configured 8k model.
    const env = await openTestManager({ config: { sessions: { maxHistoryLength: 1000 }, models: { "small-8k": { contextWindow: 8192, maxOutputTokens: 1024 } } } });
    try {
      const m = env.manager;
      const s = await m.create({ key: "dm:telegram:small-model" });
      await m.setPreferences(s.id, { model: "small-8k" });
      const filler = "the harbour lantern and the copper meadow were quiet again this evening".repeat(6);
      const codes: string[] = [];
      for (let i = 0; i < 60; i++) {
        const code = `LOCKER-${String(4000 + i * 7)}`;
        codes.push(code);
        await m.record({ ref: s.id }, { role: "user", content: `Note ${i}: my locker code is ${code}. ${filler}`, sender: "u1" });
        await m.record({ ref: s.id }, { role: "assistant", content: `Understood. ${filler}` });
      }
      const window = await m.window(await m.get(s.id));
      assert.deepEqual([window.model, window.window, window.budget], ["small-8k", 8192, 8192 - 1024]);
      const after = await m.get(s.id);
      assert.equal(after.context.window, 8192, "the session records its own model's window");
      assert.ok(after.context.compactions > 0, "folded by the 8k budget although 1,000 messages are allowed");
      assert.ok(after.context.tokensInUse <= window.budget, `${after.context.tokensInUse} tokens stored, budget ${window.budget}`);
      const built = await m.buildContext(s.id);
      assert.ok(built.tokens <= window.budget);
      assert.equal(built.summary, "full", "the summary fits whole");
      const seen = built.messages.map((x) => x.content).join("\n");
      assert.deepEqual(
        codes.filter((c) => !seen.includes(c)),
        [],
        "no identifier is left out of what the model sees",
      );
      assert.equal((await m.contextUsage(after)).window, 8192);
    } finally {
      await env.cleanup();
    }
  });

  it("foldNow(ref, { keep }) folds whole turns until that many recent messages are left, pinned ones staying", async () => {
    const env = await openTestManager();
    try {
      const m = env.manager;
      const s = await m.create({ key: "dm:telegram:keep" });
      for (let i = 0; i < 8; i++) {
        await m.record({ ref: s.id }, { role: "user", content: `question ${i} about parcel PX-${700 + i}`, sender: "u1", ...(i === 1 ? { pinned: true } : {}) });
        await m.record({ ref: s.id }, { role: "assistant", content: `answer ${i}` });
      }
      const out = await m.foldNow(s.id, { keep: 6 });
      const after = await m.get(s.id);
      // 16 messages, one pinned: folding the five oldest turns leaves the pinned question and the three newest turns.
      assert.equal(out.folded, 9);
      assert.deepEqual(
        after.messages.map((x) => x.content),
        ["question 1 about parcel PX-701", "question 5 about parcel PX-705", "answer 5", "question 6 about parcel PX-706", "answer 6", "question 7 about parcel PX-707", "answer 7"],
      );
      for (const n of [0, 2, 3, 4]) assert.ok(after.summary?.text.includes(`PX-${700 + n}`), `PX-${700 + n} in the summary`);
      assert.equal((await m.prunedHistory(s.id)).length, 9, "what was folded is in the pruned history");
      // Already at or under the count: nothing more is folded; keep 0 still leaves the latest turn.
      assert.equal((await m.foldNow(s.id, { keep: 7 })).folded, 0);
      await m.foldNow(s.id, { keep: 0 });
      assert.deepEqual(
        (await m.get(s.id)).messages.map((x) => x.content),
        ["question 1 about parcel PX-701", "question 7 about parcel PX-707", "answer 7"],
      );
      for (const bad of [-1, 1.5, Number.NaN]) await assert.rejects(m.foldNow(s.id, { keep: bad }), (e: unknown) => isOpenclawError(e, "INVALID_ARGUMENT"));
    } finally {
      await env.cleanup();
    }
  });

  it("retainPrunedHistory bounds the pruned-history log", async () => {
    const env = await openTestManager({ config: { sessions: { maxHistoryLength: 10, retainPrunedHistory: 3 } } });
    try {
      const s = await env.manager.create({ key: "dm:telegram:retain" });
      for (let i = 0; i < 30; i++) await env.manager.record({ ref: s.id }, { role: i % 2 ? "assistant" : "user", content: `m${i}` });
      // Folds (and the trim after each) run after the acknowledgement: the bound holds once they have settled.
      await env.manager.idle();
      const log = await env.manager.prunedHistory(s.id);
      assert.ok(log.length <= 3 && log.length > 0, `log has ${log.length}`);
    } finally {
      await env.cleanup();
    }
  });
});
