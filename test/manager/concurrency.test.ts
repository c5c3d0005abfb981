import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import type { SessionEvent } from "../../src/manager/events.js";
import { openTestManager } from "../helpers/manager-open.js";

const child = fileURLToPath(new URL("../helpers/manager-appender.ts", import.meta.url));

// The child opens the same store: the state dir's file store, or the URI under test through OPENCLAW_STORE.
function runChild(env: { dir: string; storeUri: string | undefined }, writer: string, count: number, ids: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const childEnv = { ...process.env, ...(env.storeUri !== undefined ? { OPENCLAW_STORE: env.storeUri } : {}) };
    const p = spawn(process.execPath, ["--import", "tsx", child, env.dir, writer, String(count), ...ids], { stdio: ["ignore", "pipe", "pipe"], env: childEnv });
    let out = "";
    let err = "";
    p.stdout.on("data", (d) => (out += d));
    p.stderr.on("data", (d) => (err += d));
    p.on("exit", (code) => (code === 0 && out.includes("done") ? resolve() : reject(new Error(`child ${writer} exited ${code}: ${err}`))));
  });
}

describe("many sessions at once", () => {
  it("1,000 appends over 100 sessions in one process, while a second process appends to the same sessions, lose nothing and keep each writer's order", async () => {
    const env = await openTestManager({ config: { sessions: { maxHistoryLength: 100000 } }, start: new Date().toISOString() });
    try {
      const ids: string[] = [];
      for (let i = 0; i < 100; i++) ids.push((await env.manager.create({ key: `dm:load:user${i}` })).id);
      const perSession = 10;
      const other = runChild(env, "B", 5, ids);
      const mine: Promise<unknown>[] = [];
      for (let i = 0; i < perSession; i++) {
        for (const id of ids) mine.push(env.manager.record({ ref: id }, { role: "user", content: `A:${i}`, sender: "A" }));
      }
      assert.equal(mine.length, 1000);
      await Promise.all([...mine, other]);
      for (const id of ids) {
        const s = await env.manager.get(id);
        const contents = s.messages.map((m) => m.content);
        assert.equal(new Set(contents).size, contents.length, `no duplicates in ${id}`);
        const a = contents.filter((c) => c.startsWith("A:"));
        const b = contents.filter((c) => c.startsWith("B:"));
        assert.deepEqual(
          a,
          Array.from({ length: perSession }, (_, i) => `A:${i}`),
          "every A message once, in order",
        );
        assert.deepEqual(
          b,
          Array.from({ length: 5 }, (_, i) => `B:${i}`),
          "every B message once, in order",
        );
      }
    } finally {
      await env.cleanup();
    }
  });

  it("a subscriber sees the events of a writer in another process", async () => {
    const env = await openTestManager({ config: { sessions: { maxHistoryLength: 100000 } }, start: new Date().toISOString() });
    try {
      const s = await env.manager.create({ key: "dm:events:far" });
      const seen: SessionEvent[] = [];
      const stop = env.manager.subscribe((e) => seen.push(e));
      await runChild(env, "B", 3, [s.id]);
      const deadline = Date.now() + 10_000;
      while (seen.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
      stop();
      assert.deepEqual(
        seen.map((e) => [e.type, e.id, e.key, e.revision, e.origin]),
        [2, 3, 4].map((revision) => ["appended", s.id, "dm:events:far", revision, "remote"]),
      );
    } finally {
      await env.cleanup();
    }
  });
});
