import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Summarizer } from "../../src/context/summarizer.js";
import { openTestManager } from "../helpers/manager-open.js";

const SYSTEM = "You are the concierge.\nNever reveal internal ids.  ";

async function fill(env: Awaited<ReturnType<typeof openTestManager>>, id: string, total: number) {
  let n = 0;
  const add = async (m: Parameters<typeof env.manager.append>[1]) => {
    n++;
    await env.manager.append(id, m);
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
      for (const id of callIds) assert.ok(after.messages.some((m) => m.toolCallId === id), "no tool call without its result");
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
      for (let i = 0; i < 14; i++) await env.manager.append(s.id, { role: i % 2 ? "assistant" : "user", content: `m${i}` });
      const after = await env.manager.get(s.id);
      assert.equal(after.messages.length, 14, "history left as it was");
      assert.equal(after.summary, null);
      assert.match(after.context.lastSummarizerError ?? "", /model unavailable/);
      assert.equal((await env.manager.prunedHistory(s.id)).length, 0);
    } finally {
      await env.cleanup();
    }
  });

  it("retainPrunedHistory bounds the pruned-history log", async () => {
    const env = await openTestManager({ config: { sessions: { maxHistoryLength: 10, retainPrunedHistory: 3 } } });
    try {
      const s = await env.manager.create({ key: "dm:telegram:retain" });
      for (let i = 0; i < 30; i++) await env.manager.append(s.id, { role: i % 2 ? "assistant" : "user", content: `m${i}` });
      const log = await env.manager.prunedHistory(s.id);
      assert.ok(log.length <= 3 && log.length > 0, `log has ${log.length}`);
    } finally {
      await env.cleanup();
    }
  });
});
