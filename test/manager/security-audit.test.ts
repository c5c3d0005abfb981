import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { test } from "node:test";
import { tokenWeakness } from "../../src/manager/security-audit.js";

/** Deterministic bytes (mulberry32), so a failure names a seed that reproduces it. */
function seededBytes(seed: number, n: number): Buffer {
  let a = seed >>> 0;
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((t ^ (t >>> 14)) >>> 0) & 0xff;
  }
  return out;
}

test("tokens shaped like the usual generators' are never called weak, over many seeds", () => {
  const generators: Record<string, (seed: number) => string> = {
    "openssl rand -hex 32": (seed) => seededBytes(seed, 32).toString("hex"),
    "openssl rand -hex 16": (seed) => seededBytes(seed, 16).toString("hex"),
    "base64url of 32 bytes": (seed) => seededBytes(seed, 32).toString("base64url"),
    "openssl rand -base64 24": (seed) => seededBytes(seed, 24).toString("base64"),
  };
  for (const [name, make] of Object.entries(generators)) {
    for (let seed = 1; seed <= 5000; seed++) {
      const token = make(seed);
      assert.equal(tokenWeakness(token), undefined, `${name}, seed ${seed}: ${token}`);
    }
  }
});

test("short, patterned, sequential or wordy tokens are weak, each with its reason", () => {
  const cases: Array<[string, RegExp]> = [
    ["3f9a1c0e7b2d4a6f", /16 characters/],
    ["a".repeat(40), /distinct|repeats/],
    ["a1b2c3d4e5f6g7h8".repeat(3), /repeats a short pattern/],
    [`zq${"0123456789"}x7Kp2mW9vR4tY8nB3jL6`, /run of consecutive/],
    [`my-SuperSecret-${randomBytes(12).toString("hex")}`, /the word "secret"/],
    [`changeme${randomBytes(16).toString("hex")}`, /the word "changeme"/],
  ];
  for (const [token, reason] of cases) assert.match(tokenWeakness(token) ?? "not weak", reason, token);
});
