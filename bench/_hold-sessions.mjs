// @ts-check
// Child of the memory scenario: node --expose-gc bench/_hold-sessions.mjs <stateDir> [--bare]
// Opens the built library (no TypeScript loader, so the process is what a
// deployment runs), loads every session through SessionManager.get, keeps
// them all in memory, and prints one JSON line of memory figures. With
// --bare it loads no library code: it reads and JSON.parses the same
// documents (a header with the lines of its message file) and holds the
// parsed objects, the floor for plain objects.
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import v8 from "node:v8";

const stateDir = process.argv[2];
if (stateDir === undefined) throw new Error("usage: _hold-sessions.mjs <stateDir> [--bare]");
const bare = process.argv.includes("--bare");
/** V8 gives back the young generation it grew during a load once allocation has been slow for a few seconds; this bounds the wait for it. */
const SETTLE_LIMIT_MS = 15_000;
const collect = () => {
  // Collect twice: the second pass frees what the first one's finalizers released.
  globalThis.gc?.();
  globalThis.gc?.();
};
const newSpace = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === "new_space")?.space_size ?? 0;

/** @type {() => Promise<unknown[]>} */
let load;
/** @type {() => Promise<void>} */
let close = async () => {};
if (bare) {
  const dir = join(stateDir, "sessions");
  const names = (await readdir(dir)).filter((n) => /^[0-9a-f-]{36}\.json$/.test(n));
  load = async () => {
    const held = [];
    for (const n of names) {
      const doc = JSON.parse(await readFile(join(dir, n), "utf8"));
      // A header names the message file holding its history: its first `bytes` bytes, one message a line.
      const file = doc.messageFile;
      if (file !== undefined) {
        const lines = file.gen === 0 || file.bytes === 0 ? [] : (await readFile(join(dir, `${doc.id}.${file.gen}.jsonl`))).subarray(0, file.bytes).toString("utf8").split("\n");
        doc.messages = lines.filter((l) => l !== "").map((l) => JSON.parse(l));
        delete doc.messageFile;
      }
      held.push(doc);
    }
    return held;
  };
} else {
  const { SessionManager } = await import("../dist/manager/manager.js");
  const manager = await SessionManager.open({ stateDir, warn: (m) => process.stderr.write(`warning: ${m}\n`) });
  const page = await manager.list({ status: "all" });
  load = async () => {
    const held = [];
    for (const item of page.items) held.push(await manager.get(item.id));
    return held;
  };
  close = () => manager.close();
}
collect();
const before = process.memoryUsage();
const youngBefore = newSpace();
const held = await load();
collect();
const after = process.memoryUsage();
// Settled: idle until V8 has shrunk the young generation back (or the limit passed), as a long-running process is between bursts.
const idleFrom = performance.now();
while (newSpace() > youngBefore && performance.now() - idleFrom < SETTLE_LIMIT_MS) {
  await new Promise((r) => setTimeout(r, 500));
  collect();
}
const settled = process.memoryUsage();
process.stdout.write(
  `${JSON.stringify({
    sessions: held.length,
    rssBefore: before.rss,
    heapBefore: before.heapUsed,
    rssAfter: after.rss,
    heapAfter: after.heapUsed,
    externalAfter: after.external,
    rssSettled: settled.rss,
    settleMs: Math.round(performance.now() - idleFrom),
    youngSettled: newSpace() <= youngBefore,
    peakRss: process.resourceUsage().maxRSS * 1024,
  })}\n`,
);
await close();
