import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { TextMemo } from "../../src/context/_memo.js";

describe("TextMemo", () => {
  it("computes an answer once and remembers it, null included", () => {
    const memo = new TextMemo<string | null>(8);
    let calls = 0;
    const compute = (text: string) => () => {
      calls++;
      return text === "none" ? null : text.toUpperCase();
    };
    assert.equal(memo.remember("abc", compute("abc")), "ABC");
    assert.equal(memo.remember("abc", compute("abc")), "ABC");
    assert.equal(memo.remember("none", compute("none")), null);
    assert.equal(memo.remember("none", compute("none")), null);
    assert.equal(calls, 2);
  });

  it("holds at most its limit, and keeps what is used again over what is not", () => {
    const memo = new TextMemo<number>(100);
    for (let i = 0; i < 1_000; i++) {
      memo.set(`t${i}`, i);
      // One text used all along survives every turn of generations.
      assert.equal(memo.get("kept") ?? memo.remember("kept", () => -1), -1);
    }
    let held = 0;
    for (let i = 0; i < 1_000; i++) if (memo.get(`t${i}`) !== undefined) held++;
    assert.ok(held <= 100, `held ${held} answers, limit 100`);
    // The newest ones are still there; the oldest are gone.
    assert.equal(memo.get("t999"), 999);
    assert.equal(memo.get("t0"), undefined);
    assert.equal(memo.get("kept"), -1);
  });
});
