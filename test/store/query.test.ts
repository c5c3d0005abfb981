import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { applyListQuery } from "../../src/store/_query.js";
import type { SessionSummary } from "../../src/session/types.js";

/** A deterministic pseudo-random sequence, so a failure replays. */
function rng(seed: number): () => number {
  let x = seed;
  return () => {
    x = (x * 1_103_515_245 + 12_345) % 2 ** 31;
    return x / 2 ** 31;
  };
}

function summaries(n: number, seed: number): SessionSummary[] {
  const next = rng(seed);
  const base = Date.parse("2026-11-20T00:00:00.000Z");
  const out: SessionSummary[] = [];
  for (let i = 0; i < n; i++) {
    // Few distinct instants, so many entries tie and the id decides.
    const at = new Date(base + Math.floor(next() * 40) * 3_600_000).toISOString();
    const id = `0190${String(i).padStart(4, "0")}-0000-7000-8000-${Math.floor(next() * 1e12)
      .toString(16)
      .padStart(12, "0")}`;
    out.push({
      id,
      key: `dm:c${i % 3}:u${i}`,
      kind: i % 5 === 0 ? "group" : "dm",
      channel: `c${i % 3}`,
      status: i % 7 === 0 ? "archived" : "active",
      messageCount: i,
      tokens: i * 10,
      createdAt: at,
      updatedAt: at,
      lastActivityAt: at,
      expiredAt: null,
      archivedAt: i % 7 === 0 ? at : null,
      revision: 1,
      sizeBytes: 100,
    });
  }
  return out;
}

/** The reference order: everything sorted, newest activity first, ties by id descending. */
function fullyOrdered(entries: SessionSummary[]): string[] {
  return [...entries].sort((a, b) => Date.parse(b.lastActivityAt) - Date.parse(a.lastActivityAt) || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0)).map((s) => s.id);
}

describe("list paging over a large store", () => {
  it("a small page of many entries is exactly the head of the full order, at every offset", () => {
    const entries = summaries(2_000, 7);
    const order = fullyOrdered(entries);
    for (const [offset, limit] of [
      [0, 1],
      [0, 50],
      [3, 20],
      [199, 50],
      [0, 249],
      [1_990, 50],
    ] as const) {
      const page = applyListQuery(entries, { offset, limit });
      assert.deepEqual(
        page.items.map((s) => s.id),
        order.slice(offset, offset + limit),
        `offset ${offset}, limit ${limit}`,
      );
      assert.equal(page.total, entries.length);
    }
  });

  it("filters and the expiry cutoff apply before paging; total counts every match", () => {
    const entries = summaries(1_500, 11);
    const cutoff = "2026-11-21T00:00:00.000Z";
    const page = applyListQuery(entries, { statuses: ["active"], kinds: ["dm"], expiryCutoff: cutoff, limit: 10 });
    const expected = entries.filter((s) => s.kind === "dm" && s.status === "active" && Date.parse(s.lastActivityAt) >= Date.parse(cutoff));
    assert.equal(page.total, expected.length);
    assert.deepEqual(
      page.items.map((s) => s.id),
      fullyOrdered(expected).slice(0, 10),
    );
    const expired = applyListQuery(entries, { statuses: ["expired"], expiryCutoff: cutoff, limit: 5 });
    assert.ok(expired.total > 0);
    for (const s of expired.items) assert.equal(s.status, "expired", "the page carries the effective status");
  });

  it("the stored summaries are not changed by listing", () => {
    const entries = summaries(300, 3);
    const before = JSON.stringify(entries);
    applyListQuery(entries, { statuses: ["expired"], expiryCutoff: "2026-11-25T00:00:00.000Z", limit: 5 });
    assert.equal(JSON.stringify(entries), before);
  });
});
