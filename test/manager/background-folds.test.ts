import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { test } from "node:test";
import { SessionManager } from "../../src/manager/manager.js";
import { openTestManager } from "../helpers/manager-open.js";

const background = { sessions: { maxHistoryLength: 4, compaction: { mode: "background" } } };

test("closing right after an append lets its background fold finish: a one-shot process still folds", async () => {
  const env = await openTestManager({ config: background });
  try {
    const s = await env.manager.create({ key: "dm:telegram:drain" });
    // The fifth message is over the limit: its fold is queued as the append returns, and close comes at once.
    for (let i = 0; i < 5; i++) await env.manager.record({ ref: s.id }, { role: i % 2 ? "assistant" : "user", content: `note ${i} about ORD-${1000 + i}` });
    await env.manager.close();
    const again = await SessionManager.open({ stateDir: env.dir, config: background, warn: () => {}, ...(env.storeUri !== undefined ? { storeUri: env.storeUri } : {}) });
    try {
      const folded = await again.get(s.id);
      assert.ok(folded.summary !== null, "the fold ran before close returned");
      assert.ok(folded.messages.length <= 4);
      assert.equal(folded.messages.length + (await again.prunedHistory(s.id)).length, 5, "nothing lost");
    } finally {
      await again.close();
    }
  } finally {
    rmSync(env.dir, { recursive: true, force: true });
  }
});
