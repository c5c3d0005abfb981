import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DEFAULT_CONTEXT_WINDOW, lookupModelWindow, normalizeModelId, resolveWindow, tokenBudget } from "../../src/context/windows.js";

describe("context windows", () => {
  const cases: Array<[string, number]> = [
    ["gpt-4o", 128_000],
    ["GPT-4o", 128_000],
    ["gpt-4o-2024-08-06", 128_000],
    ["gpt-4o-mini", 128_000],
    ["openai/gpt-4o-mini-2024-07-18", 128_000],
    ["gpt-4", 8_192],
    ["gpt-4-0613", 8_192],
    ["gpt-4-turbo-2024-04-09", 128_000],
    ["gpt-4.1-mini", 1_047_576],
    ["gpt-5-mini-2025-08-07", 272_000],
    ["gpt-5-chat-latest", 128_000],
    ["o3-mini-2025-01-31", 200_000],
    ["o1-mini", 128_000],
    ["gpt-3.5-turbo-0125", 16_385],
    ["claude-3-5-sonnet-20241022", 200_000],
    ["claude-sonnet-4-5", 200_000],
    ["claude-opus-4-1-20250805", 200_000],
    ["anthropic/claude-3.5-sonnet", 200_000],
    ["us.anthropic.claude-3-5-sonnet-20240620-v1:0", 200_000],
    ["claude-2.0", 100_000],
    ["claude-2.1", 200_000],
    ["gemini-1.5-pro-002", 2_097_152],
    ["gemini-1.5-flash-8b", 1_048_576],
    ["models/gemini-2.0-flash", 1_048_576],
    ["gemini-2.5-pro-preview-05-06", 1_048_576],
    ["gemma3:27b", 131_072],
    ["llama3.1:8b", 131_072],
    ["llama3:8b", 8_192],
    ["llama3.3:70b-instruct-q4_K_M", 131_072],
    ["meta-llama/Llama-3.1-70B-Instruct", 131_072],
    ["Meta-Llama-3.1-8B-Instruct", 131_072],
    ["meta.llama3-1-70b-instruct-v1:0", 131_072],
    ["accounts/fireworks/models/llama-v3p1-70b-instruct", 131_072],
    ["llama2:13b", 4_096],
    ["mistral-large-latest", 131_072],
    ["mistral:7b", 32_768],
    ["mistralai/Mistral-7B-Instruct-v0.3", 32_768],
    ["open-mistral-nemo", 131_072],
    ["mixtral:8x22b", 65_536],
    ["codestral-latest", 256_000],
    ["qwen2.5:7b", 32_768],
    ["Qwen/Qwen2.5-Coder-32B-Instruct", 32_768],
    ["qwen3-coder:30b", 262_144],
    ["qwen-plus", 131_072],
    ["deepseek-chat", 128_000],
    ["deepseek-r1:14b", 128_000],
    ["deepseek-ai/DeepSeek-V3", 128_000],
    ["deepseek-coder:6.7b", 16_384],
  ];
  for (const [model, window] of cases) {
    it(`knows ${model} has a ${window}-token window`, () => {
      assert.equal(lookupModelWindow(model)?.window, window);
      const r = resolveWindow({ contextWindow: "auto", model });
      assert.deepEqual(r, { window, source: "model", model });
    });
  }

  it("a dot never continues a key, so an unreleased version is unknown rather than guessed", () => {
    assert.equal(lookupModelWindow("gpt-5.9"), null);
    assert.equal(lookupModelWindow("llama3.9:8b"), null);
  });

  it("an unknown model gets the default window and a warning that names it and the setting", () => {
    const r = resolveWindow({ contextWindow: "auto", model: "acme-brain-7" });
    assert.equal(r.window, DEFAULT_CONTEXT_WINDOW);
    assert.equal(r.source, "default");
    assert.match(r.warning ?? "", /acme-brain-7/);
    assert.match(r.warning ?? "", /sessions\.contextWindow/);
  });

  it("an integer contextWindow overrides the table, even for an unknown model", () => {
    assert.deepEqual(resolveWindow({ contextWindow: 32_000, model: "gpt-4o" }), { window: 32_000, source: "config", model: "gpt-4o" });
    const r = resolveWindow({ contextWindow: 16_384, model: "acme-brain-7" });
    assert.equal(r.window, 16_384);
    assert.equal(r.warning, undefined);
  });

  it("normalizes provider prefixes, Ollama tags and Llama spellings", () => {
    assert.equal(normalizeModelId("meta-llama/Llama-3.1-70B-Instruct"), "llama3.1-70b-instruct");
    assert.equal(normalizeModelId("llama3.1:8b"), "llama3.1-8b");
    assert.equal(normalizeModelId("llama3:70b"), "llama3-70b");
  });
});

describe("token budget", () => {
  it("is the window minus the reserve", () => {
    assert.deepEqual(tokenBudget(128_000, 4096), { budget: 123_904, reserve: 4096 });
  });

  it("never drops below a quarter of the window, and says so", () => {
    const b = tokenBudget(8192, 8000);
    assert.equal(b.budget, 2048);
    assert.equal(b.reserve, 6144);
    assert.match(b.warning ?? "", /reserveTokens/);
  });
});
