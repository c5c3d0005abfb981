import assert from "node:assert/strict";
import { test } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { extractiveSummary } from "../../src/context/extractive.js";
import { createThreadedExtractiveSummarizer } from "../../src/context/extractive-thread.js";
import { loadTokenCounter } from "../../src/context/tokens.js";
import type { Message } from "../../src/session/types.js";
import { msg, prng } from "../helpers/context-fixtures.js";

const COUNTER = { model: "gpt-4o", safetyFactor: 1.1 };

/** A fold's worth of chat with identifiers of several shapes, different per seed. */
function foldInput(seed: number): Message[] {
  const r = prng(seed);
  const lines = [
    () => `My booking reference is BK-${r.int(10_000, 99_999)}.`,
    () => `Please ship order ORD-${r.int(100, 999)} to ${r.pick(["Lyon", "Oslo", "Porto", "Quito"])}.`,
    () => `The failing host is db-${r.int(1, 40)}.internal, see /var/log/app-${r.int(1, 9)}.log`,
    () => r.pick(["ok", "thanks!", "sure", "sounds good"]),
    () => `Invoice INV-${r.int(1000, 9999)} is due on 2026-0${r.int(1, 9)}-1${r.int(0, 9)}.`,
  ];
  return Array.from({ length: r.int(4, 30) }, (_, i) => msg(i, { role: i % 2 === 0 ? "user" : "assistant", content: r.pick(lines)() }));
}

test("summaries made on the worker thread are the ones made on the calling thread, and the thread takes over from the second fold", async () => {
  const counter = await loadTokenCounter(COUNTER.model, COUNTER.safetyFactor);
  const threaded = createThreadedExtractiveSummarizer(COUNTER);
  try {
    const deadline = Date.now() + 60_000;
    let seed = 1;
    // Folds keep coming, as in a busy process; the thread answers once it is up.
    while (threaded.onThread < 5) {
      assert.ok(Date.now() < deadline, `the thread never took a fold (made ${seed - 1} on the calling thread)`);
      const input = { previous: null, messages: foldInput(seed), maxTokens: 400 };
      const expected = extractiveSummary({ ...input, countTokens: (t) => counter.countText(t) });
      assert.equal(await threaded.summarize({ ...input, countTokens: (t) => counter.countText(t) }), expected, `seed ${seed}`);
      seed++;
      if (threaded.onThread === 0) await delay(20);
    }
    assert.ok(seed - 1 > threaded.onThread, "the first fold ran on the calling thread");
  } finally {
    await threaded.close();
  }
});

test("an aborted summary rejects at once; close ends the thread and pending summaries fail, nothing hangs", async () => {
  const threaded = createThreadedExtractiveSummarizer(COUNTER);
  const input = { previous: null, messages: foldInput(7), maxTokens: 400 };
  const aborted = new AbortController();
  aborted.abort(new Error("stop"));
  await assert.rejects(threaded.summarize(input, aborted.signal), /stop/);
  await threaded.close();
  // After close the summarizer still answers (on the calling thread, or a new thread).
  assert.match(await threaded.summarize(input), /Summary of/);
  await threaded.close();
});

test("ready() starts the thread before any fold: the first summary is made on it, and a closed summarizer starts again", async () => {
  const threaded = createThreadedExtractiveSummarizer(COUNTER);
  const counter = await loadTokenCounter(COUNTER.model, COUNTER.safetyFactor);
  try {
    assert.equal(await threaded.ready(), true);
    // Asked twice, answered at once the second time.
    assert.equal(await threaded.ready(), true);
    const input = { previous: null, messages: foldInput(11), maxTokens: 300 };
    const expected = extractiveSummary({ ...input, countTokens: (t) => counter.countText(t) });
    assert.equal(await threaded.summarize({ ...input, countTokens: (t) => counter.countText(t) }), expected);
    assert.equal(threaded.onThread, 1, "the first fold went to the thread");
    await threaded.close();
    assert.equal(await threaded.ready(), true, "a closed summarizer's thread comes up again");
    await threaded.summarize(input);
    assert.equal(threaded.onThread, 2);
  } finally {
    await threaded.close();
  }
});
