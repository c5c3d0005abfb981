import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import { buildContext } from "../../src/context/build.js";
import { applyFold, planPrune } from "../../src/context/prune.js";
import { MESSAGE_OVERHEAD_TOKENS, clampToTokens, createTokenCounter, estimateTokens, isO200kModel, loadTokenCounter } from "../../src/context/tokens.js";
import { T0, call, msg, session } from "../helpers/context-fixtures.js";

describe("token counting", () => {
  it("counts o200k models exactly, including framing per message", async () => {
    const c = await loadTokenCounter("gpt-4o", 1.1);
    assert.equal(c.exact, true);
    assert.equal(c.countText("hello world"), 2);
    assert.equal(c.countText(""), 0);
    assert.equal(c.countMessage({ role: "user", content: "hello world" }), 2 + MESSAGE_OVERHEAD_TOKENS);
  });

  it("charges the sender label and the tool-call JSON", async () => {
    const c = await loadTokenCounter("gpt-4.1-mini", 1);
    const bare = c.countMessage({ role: "assistant", content: "ok" });
    assert.ok(c.countMessage({ role: "user", content: "ok", sender: "alice" }) > bare);
    const withCall = c.countMessage({ role: "assistant", content: "ok", toolCalls: [call("call_1", "lookup_invoice", '{"id":"INV-2024-0042"}')] });
    assert.ok(withCall >= bare + c.countText('{"id":"INV-2024-0042"}'), "arguments are counted");
  });

  it("scales other families by the safety factor and rounds up", async () => {
    const exact = await loadTokenCounter("gpt-4o", 1);
    const claude = await loadTokenCounter("claude-3-5-sonnet-20241022", 1.1);
    assert.equal(claude.exact, false);
    const text = "The invoice INV-2024-0042 was paid on 2026-01-10 for $1,200.";
    assert.equal(claude.countText(text), Math.ceil(exact.countText(text) * 1.1));
    assert.ok(claude.countMessage({ role: "user", content: text }) >= exact.countMessage({ role: "user", content: text }));
  });

  it("treats special-token text typed by a user as plain text", async () => {
    const c = await loadTokenCounter("gpt-4o", 1);
    assert.ok(c.countText("look: <|endoftext|> here") > 3);
  });

  it("recognises the o200k family with or without a provider prefix", () => {
    for (const m of ["gpt-4o", "gpt-4o-mini-2024-07-18", "openai/gpt-4.1", "gpt-5", "gpt-5-mini", "o1", "o3-mini", "o4-mini-2025-04-16", "chatgpt-4o-latest", "gpt-oss-20b"]) {
      assert.equal(isO200kModel(m), true, m);
    }
    for (const m of ["gpt-4", "gpt-4-turbo", "gpt-3.5-turbo", "claude-3-opus", "llama3.1:8b", "o1x", "omni"]) {
      assert.equal(isO200kModel(m), false, m);
    }
  });

  it("the cheap estimate does not undercount identifier-heavy or non-Latin text", async () => {
    const c = await loadTokenCounter("gpt-4o", 1);
    const samples = [
      "We decided to go with Postgres 16 for the invoice service.",
      "INV-2024-0042, 0193b2c4-5d6e-7f80-9a1b-2c3d4e5f6a7b, https://example.com/a/b?c=d, ops@example.com",
      "$1,200 42 ms 3.5 GB `parseConfig` src/context/build.ts @bob #1234 10.0.0.1:8080",
      "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0",
      "数据库迁移已经完成，我们决定使用新的方案。",
      "Привет, как дела? 😀🎉",
    ];
    for (const s of samples) assert.ok(estimateTokens(s) >= c.countText(s), s);
  });

  it("clampToTokens cuts at a line boundary and never returns more than asked", () => {
    const count = (t: string): number => t.length;
    assert.equal(clampToTokens("aaaa\nbbbb\ncccc", 10, count), "aaaa\nbbbb");
    assert.equal(clampToTokens("abcdefghij", 4, count), "abcd");
    assert.equal(clampToTokens("short", 10, count), "short");
  });
});

describe("long texts counted line by line", () => {
  it("a long multi-line text counts exactly what the tokenizer counts for it whole, however its lines begin and end", async () => {
    const { countTokens } = await import("gpt-tokenizer/encoding/o200k_base");
    const c = await loadTokenCounter("gpt-4o", 1);
    const starts = ["- ", "/", "  ", "\t", "", "## ", "Ticket ", "42 ", "Ünïcode ", "\n", "😀 ", ":", "'s "];
    const ends = ["", ":", ".", " ", "  ", "//", "-", "'", "\r"];
    let seed = 7;
    const pick = <T>(xs: readonly T[]): T => xs[(seed = (seed * 1103515245 + 12345) % 2 ** 31) % xs.length] as T;
    for (let round = 0; round < 20; round++) {
      const lines: string[] = [];
      for (let i = 0; i < 120; i++) lines.push(`${pick(starts)}note ${i} about order PO-${1000 + i} for ${pick(["Ann", "bob", "ACME", "x/y", "3.5 kg"])}${pick(ends)}`);
      const text = lines.join(pick(["\n", "\n\n", "\r\n", "\n \n"]));
      assert.ok(text.length > 2048);
      assert.equal(c.countText(text), countTokens(text), `round ${round}`);
      // Counted again with most lines remembered, and as a message's content: the same.
      assert.equal(c.countText(text), countTokens(text));
      assert.equal(c.countMessage({ role: "system", content: text }), countTokens(text) + MESSAGE_OVERHEAD_TOKENS);
    }
  });
});

describe("cached counts", () => {
  it("building a context never recounts a message: it trusts Message.tokens", () => {
    let calls = 0;
    const spy = createTokenCounter(
      (t) => {
        calls++;
        return t.length;
      },
      "gpt-4o",
      1,
    );
    const s = session();
    // Deliberately wrong cached sizes: the builder must use them as they are.
    s.messages = [msg(0, { role: "user", content: "hi", tokens: 50 }), msg(1, { role: "assistant", content: "hello", tokens: 70 })];
    const built = buildContext(s, 10_000, { counter: spy });
    assert.equal(calls, 0);
    assert.equal(built.parts.recent, 120);
  });

  it("pruning plans from cached counts and applyFold counts only the new summary, once", () => {
    let calls = 0;
    const spy = createTokenCounter(
      (t) => {
        calls++;
        return Math.ceil(t.length / 4);
      },
      "gpt-4o",
      1,
    );
    const s = session();
    for (let i = 0; i < 20; i++) s.messages.push(msg(i, { role: i % 2 === 0 ? "user" : "assistant" }));
    const plan = planPrune(s, { maxHistoryLength: 10, budgetTokens: 100_000, lowWaterMark: 0.5 });
    assert.ok(plan !== null);
    assert.equal(calls, 0);
    const after = applyFold(s, plan, "Summary text", "extractive", spy, T0);
    assert.equal(calls, 1);
    assert.equal(after.summary?.tokens, spy.countMessage({ role: "system", content: "Summary of earlier conversation:\nSummary text" }));
  });
});

describe("lazy tokenizer", () => {
  it("importing the context modules does not load the tokenizer; asking for a counter does", () => {
    const probe = fileURLToPath(new URL("../helpers/context-lazy-probe.ts", import.meta.url));
    const run = spawnSync(process.execPath, ["--import", "tsx", probe], { encoding: "utf8" });
    assert.equal(run.status, 0, run.stderr);
    const { before, after } = JSON.parse(run.stdout.trim().split("\n").pop() ?? "{}") as { before: number; after: number };
    assert.equal(before, 0);
    assert.ok(after > 0);
  });
});
