// @ts-check
// Child of the memory scenario: node --expose-gc bench/_hold-sessions.mjs <stateDir>
// Opens the built library (no TypeScript loader, so the process is what a
// deployment runs), loads every session through SessionManager.get, keeps
// them all in memory, and prints one JSON line of memory figures.
import { SessionManager } from "../dist/manager/manager.js";

const stateDir = process.argv[2];
if (stateDir === undefined) throw new Error("usage: _hold-sessions.mjs <stateDir>");
const settle = () => {
  // Collect twice: the second pass frees what the first one's finalizers released.
  globalThis.gc?.();
  globalThis.gc?.();
};
const manager = await SessionManager.open({ stateDir, warn: (m) => process.stderr.write(`warning: ${m}\n`) });
const page = await manager.list({ status: "all" });
settle();
const before = process.memoryUsage();
/** @type {unknown[]} */
const held = [];
for (const item of page.items) held.push(await manager.get(item.id));
settle();
const after = process.memoryUsage();
process.stdout.write(
  `${JSON.stringify({
    sessions: held.length,
    rssBefore: before.rss,
    heapBefore: before.heapUsed,
    rssAfter: after.rss,
    heapAfter: after.heapUsed,
    externalAfter: after.external,
    peakRss: process.resourceUsage().maxRSS * 1024,
  })}\n`,
);
await manager.close();
