import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { nestedDeeperThan } from "../../src/gateway/_json-depth.js";

/** Depth of a parsed value, the straightforward (recursive) way: the reference the scanner must agree with. */
function depthOf(value: unknown): number {
  if (Array.isArray(value)) return 1 + Math.max(0, ...value.map(depthOf));
  if (typeof value === "object" && value !== null) return 1 + Math.max(0, ...Object.values(value).map(depthOf));
  return 0;
}

/** A seeded generator (mulberry32), so every shape is reproducible. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A random JSON value up to `depth` deep, with strings full of brackets, quotes and backslashes. */
function generate(rand: () => number, depth: number): unknown {
  const r = rand();
  if (depth === 0 || r < 0.2) {
    const tricky = ["[", "]", "{", "}", '"', "\\", '\\"', "\\\\", "é", "\u2028", "a"];
    return r < 0.1 ? Math.floor(rand() * 100) : Array.from({ length: Math.floor(rand() * 6) }, () => tricky[Math.floor(rand() * tricky.length)]).join("");
  }
  const n = 1 + Math.floor(rand() * 3);
  if (r < 0.6) return Array.from({ length: n }, () => generate(rand, depth - 1));
  return Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}[{"`, generate(rand, depth - 1)]));
}

describe("JSON nesting depth, counted without recursion", () => {
  it("agrees with a recursive count on random documents of many shapes and seeds", () => {
    for (let seed = 1; seed <= 300; seed++) {
      const rand = random(seed);
      const text = JSON.stringify(generate(rand, 1 + Math.floor(rand() * 12)));
      const depth = depthOf(JSON.parse(text));
      assert.equal(nestedDeeperThan(text, depth), false, `seed ${seed}: ${text}`);
      if (depth > 0) assert.equal(nestedDeeperThan(text, depth - 1), true, `seed ${seed}: ${text}`);
    }
  });

  it("counts objects and arrays alike, at the limit and one past it", () => {
    const nest = (depth: number, open: string, close: string) => `${open.repeat(depth)}${close.repeat(depth)}`;
    assert.equal(nestedDeeperThan(nest(64, "[", "]"), 64), false);
    assert.equal(nestedDeeperThan(nest(65, "[", "]"), 64), true);
    assert.equal(nestedDeeperThan(`${'{"a":'.repeat(65)}1${"}".repeat(65)}`, 64), true);
    assert.equal(nestedDeeperThan(`${'[{"a":'.repeat(32)}1${"}]".repeat(32)}`, 64), false);
    // Siblings do not add up: a wide document is shallow.
    assert.equal(nestedDeeperThan(`[${"[[]],".repeat(10_000)}1]`, 3), false);
  });

  it("ignores brackets inside strings, escaped quotes and backslashes included", () => {
    assert.equal(nestedDeeperThan(JSON.stringify({ a: "[".repeat(1000) }), 1), false);
    assert.equal(nestedDeeperThan(JSON.stringify({ a: '\\"[[[', b: "\\", c: "{{{" }), 1), false);
    assert.equal(nestedDeeperThan(JSON.stringify(["\\", [["x"]]]), 2), true, "a string ending in a backslash closes");
  });

  it("scans a million brackets without overflowing the stack, and survives text that is not JSON", () => {
    assert.equal(nestedDeeperThan("[".repeat(1_000_000), 64), true);
    assert.equal(nestedDeeperThan("]]]]}}}}", 64), false);
    assert.equal(nestedDeeperThan('"unterminated [[[[', 1), false);
    assert.equal(nestedDeeperThan("", 0), false);
  });
});
