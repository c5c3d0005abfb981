// The read path checks stored documents without zod; it must accept exactly
// what the zod schemas accept, and return the same document.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { headerChangeSchema, parseStoredSession, messageSchema } from "../../src/session/schema.js";
import { checkHeaderChange, checkStoredMessage, checkStoredSession, isIsoDateTime } from "../../src/session/stored-check.js";
import { prng } from "../helpers/context-fixtures.js";
import { richSession, testMessage, testSession } from "../helpers/store-sessions.js";

const V1 = JSON.parse(readFileSync(new URL("../fixtures/v1/session-basic.json", import.meta.url), "utf8")) as Record<string, unknown>;

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

/** Every path to a value in `doc` (objects and arrays included), root excluded. */
function paths(doc: Json, at: (string | number)[] = []): (string | number)[][] {
  if (doc === null || typeof doc !== "object") return [];
  const keys: (string | number)[] = Array.isArray(doc) ? doc.map((_, i) => i) : Object.keys(doc);
  return keys.flatMap((k) => [[...at, k], ...paths((doc as Record<string | number, Json>)[k] as Json, [...at, k])]);
}

/** `doc` with the value at `path` replaced (undefined deletes it). */
function mutate(doc: Json, path: (string | number)[], value: Json | undefined): Json {
  const out = clone(doc);
  let node = out as Record<string | number, Json>;
  for (const k of path.slice(0, -1)) node = node[k] as Record<string | number, Json>;
  const last = path.at(-1) as string | number;
  if (value === undefined) {
    if (Array.isArray(node)) node.splice(last as number, 1);
    else delete node[last];
  } else node[last] = value;
  return out;
}

const REPLACEMENTS: Array<Json | undefined> = [
  undefined,
  null,
  0,
  -1,
  1.5,
  2 ** 60,
  "",
  "x",
  "x".repeat(65),
  "x".repeat(257),
  "x".repeat(1025),
  true,
  [],
  ["a"],
  {},
  { unexpected: 1 },
  "2025-02-29T10:00:00.000Z",
  "2024-02-29T23:59:59Z",
  "2025-01-01T24:00:00Z",
  "2025-01-01T10:00Z",
  "2025-01-01T10:00:00+05:30",
  "2025-01-01T10:00:00+24:00",
  "2025-01-01T10:00:00z",
  "2025-01-01 10:00:00Z",
  "2025-13-01T10:00:00Z",
  "2025-04-31T10:00:00.123456Z",
  "user",
  "tool",
  "archived",
  "group",
];

function assertSame(value: unknown, label: string): void {
  const zod = parseStoredSession(value);
  const ours = checkStoredSession(value);
  assert.equal(
    ours.success,
    zod.success,
    `${label}: zod ${zod.success ? "accepts" : `refuses (${zod.error.issues[0]?.path.join(".")}: ${zod.error.issues[0]?.message})`}, the read check ${ours.success ? "accepts" : "refuses"}`,
  );
  if (zod.success && ours.success) {
    assert.deepEqual(ours.data, zod.data, `${label}: the same document`);
    assert.equal(JSON.stringify(ours.data), JSON.stringify(zod.data), `${label}: the same keys in the same order, as a save writes them`);
  }
}

describe("the read path's check of stored documents", () => {
  it("returns what zod returns for valid documents of both formats, unknown keys left out", () => {
    const rich = richSession();
    const { messages, ...header } = clone(rich);
    const reordered = { ...header, messages: messages.map((m) => Object.fromEntries(Object.entries(m).reverse())) };
    for (const doc of [rich, testSession(), testSession({ messages: [testMessage("hi")] }), V1, { ...clone(rich), extra: 1, messages: rich.messages.map((m) => ({ ...m, more: true })) }, reordered]) {
      assertSame(clone(doc), "valid document");
      assert.equal(checkStoredSession(clone(doc)).success, true);
    }
    const upgraded = checkStoredSession(clone(V1));
    assert.ok(upgraded.success && upgraded.data.version === 2 && upgraded.data.context.lastSummarizerErrorAt === null);
  });

  it("accepts and refuses exactly what zod does, for every field of a rich document and each format, under many replacements", () => {
    let compared = 0;
    for (const [name, base] of [
      ["current format", clone(richSession()) as unknown as Json],
      ["format 1", clone(V1) as Json],
    ] as const) {
      for (const path of paths(base)) {
        for (const replacement of REPLACEMENTS) {
          assertSame(mutate(base, path, replacement), `${name}, ${path.join(".")} = ${JSON.stringify(replacement) ?? "(deleted)"}`);
          compared++;
        }
      }
    }
    assert.ok(compared > 3000, `${compared} documents compared`);
  });

  it("agrees with zod on random damage (seeded) and on preferences holding any JSON, __proto__ keys included", () => {
    const r = prng(26);
    const base = clone(richSession()) as unknown as Json;
    const all = paths(base);
    for (let i = 0; i < 2000; i++) {
      let doc = base;
      for (let k = r.int(1, 3); k > 0; k--) {
        const p = all[r.int(0, all.length - 1)] ?? [];
        try {
          doc = mutate(doc, p, REPLACEMENTS[r.int(0, REPLACEMENTS.length - 1)]);
        } catch {
          // The path went away with an earlier change.
        }
      }
      assertSame(doc, `random damage ${i}`);
    }
    const prefs = JSON.parse('{"__proto__": {"polluted": true}, "nested": [1, "a", null, {"b": [true]}], "n": 1e300}') as Json;
    const withPrefs = { ...clone(richSession()), preferences: prefs };
    const zod = parseStoredSession(withPrefs);
    const ours = checkStoredSession(withPrefs);
    assert.ok(ours.success && zod.success);
    // zod makes a __proto__ key the result's prototype; either way it is not saved.
    assert.equal(JSON.stringify(ours.data), JSON.stringify(zod.data));
    assert.equal(Object.getPrototypeOf(ours.data.preferences), Object.prototype, "no object of ours gets another prototype");
    assert.deepEqual(Object.keys(ours.data.preferences), ["nested", "n"]);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(checkStoredSession({ ...clone(richSession()), preferences: JSON.parse('{"x": 1e400}') as Json }).success, false, "Infinity is not a JSON value");
  });

  it("checks a message alone as zod's message schema does", () => {
    const m = clone(testMessage("hello", "2025-01-02T10:00:00.000Z", { toolCalls: [{ id: "c1", name: "f", arguments: "{}" }], usage: { input: 1, output: 2, total: 3 } })) as unknown as Json;
    for (const path of paths(m)) {
      for (const replacement of REPLACEMENTS) {
        const v = mutate(m, path, replacement);
        assert.equal(checkStoredMessage(v).success, messageSchema.safeParse(v).success, `${path.join(".")} = ${JSON.stringify(replacement) ?? "(deleted)"}`);
      }
    }
  });

  it("checks an append's header change as zod's header schema does, and returns the same fields in the same order", () => {
    const { status, updatedAt, lastActivityAt, expiredAt, archivedAt, participants, context } = clone(richSession());
    const header = { status, updatedAt, lastActivityAt, expiredAt, archivedAt, participants, context } as unknown as Json;
    const same = (v: Json, label: string) => {
      const zod = headerChangeSchema.safeParse(v);
      const ours = checkHeaderChange(v);
      assert.equal(ours.success, zod.success, label);
      if (ours.success && zod.success) assert.equal(JSON.stringify(ours.data), JSON.stringify(zod.data), `${label}: the same fields in the same order`);
    };
    same(header, "valid header");
    same({ ...(header as Record<string, Json>), messages: [], key: "x" } as Json, "other document fields left out");
    same(Object.fromEntries(Object.entries(header as Record<string, Json>).reverse()) as Json, "keys in another order");
    let compared = 0;
    for (const path of paths(header)) {
      for (const replacement of REPLACEMENTS) {
        same(mutate(header, path, replacement), `${path.join(".")} = ${JSON.stringify(replacement) ?? "(deleted)"}`);
        compared++;
      }
    }
    assert.ok(compared > 400, `${compared} headers compared`);
  });

  it("reads RFC 3339 date-times with seconds and a zone on real calendar days only", () => {
    for (const ok of ["2024-02-29T00:00:00Z", "2000-02-29T12:30:59.5+01:00", "1999-12-31T23:59:59-23:59"]) assert.equal(isIsoDateTime(ok), true, ok);
    for (const bad of ["1900-02-29T00:00:00Z", "2023-02-29T00:00:00Z", "2024-06-31T00:00:00Z", "2024-01-01T00:00:60Z", "2024-01-01T00:00Z", "2024-01-01T00:00:00", "2024-01-01T00:00:00.Z"]) {
      assert.equal(isIsoDateTime(bad), false, bad);
    }
  });
});
