import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { messageTokenLimit, summaryBudget } from "../../src/context/budget.js";
import type { SummarizeInput } from "../../src/context/summarizer.js";
import { defaultConfig } from "../../src/config/defaults.js";
import { openTestManager } from "../helpers/manager-open.js";

describe("summary budget follows the window", () => {
  it("uses maxTokens as a floor and a capped share of a large window", () => {
    const config = defaultConfig();
    assert.equal(summaryBudget(config, 128_000), 12_800, "10 % of gpt-4o's window");
    assert.equal(summaryBudget(config, 8_192), 1_200, "an 8k window keeps the floor");
    assert.equal(summaryBudget(config, 1_000_000), 16_000, "capped by maxShareTokens");
    config.sessions.summarizer.windowShare = 0;
    assert.equal(summaryBudget(config, 128_000), 1_200, "a share of 0 turns it off");
  });

  it('sessions.maxMessageTokens "auto" is half the context budget', () => {
    const config = defaultConfig();
    assert.equal(messageTokenLimit(config), 61_952);
    config.sessions.maxMessageTokens = 5_000;
    assert.equal(messageTokenLimit(config), 5_000);
  });

  it("a fold through the manager gives the summarizer the window's share", async () => {
    const seen: SummarizeInput[] = [];
    const env = await openTestManager({
      storeUri: "memory:",
      config: { sessions: { maxHistoryLength: 4 } },
      summarizerDeps: { primary: { name: "probe", summarize: (input) => (seen.push(input), Promise.resolve("Facts:\n- probe")) } },
    });
    try {
      const s = await env.manager.create({ key: "dm:web:u1" });
      for (let i = 0; i < 6; i++) await env.manager.record({ ref: s.id }, { role: i % 2 === 0 ? "user" : "assistant", content: `message ${i}` });
      assert.ok(seen.length > 0);
      assert.equal(seen[0]?.maxTokens, 12_800);
    } finally {
      await env.cleanup();
    }
  });
});
