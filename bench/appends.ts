import { closeSync, fdatasyncSync, openSync, writeSync } from "node:fs";
import { join } from "node:path";
import { SessionManager } from "../src/manager/manager.js";
import type { Session } from "../src/session/types.js";
import { chatText, Rng } from "./_populate.js";
import { scratch, sig, type Row } from "./_util.js";

/** Sizes of the append scenario. */
export interface AppendSizes {
  /** Appends to the single session. */
  single: number;
  /** Sessions written concurrently. */
  sessions: number;
  /** Appends to each of those sessions. */
  perSession: number;
}

/**
 * Writes each buffer and flushes it with fdatasync, one at a time, the way
 * the cheapest durable log would; returns appends per second. `inPlace`
 * overwrites offset 0 instead of appending (no size change to flush), the
 * floor no document store that can grow reaches.
 */
export function rawAppendRate(path: string, docs: readonly Buffer[], inPlace = false): number {
  const fd = openSync(path, "w", 0o600);
  try {
    const start = performance.now();
    for (const doc of docs) {
      writeSync(fd, doc, 0, doc.length, inPlace ? 0 : null);
      fdatasyncSync(fd);
    }
    return docs.length / ((performance.now() - start) / 1000);
  } finally {
    closeSync(fd);
  }
}

function message(rng: Rng, i: number): { role: "user" | "assistant"; content: string; sender: string | null } {
  const user = i % 2 === 0;
  return { role: user ? "user" : "assistant", content: chatText(rng, rng.int(6, 60)), sender: user ? "u1" : null };
}

/** The bytes the store wrote for a saved document (its serialized form). */
function bytesOf(saved: Session): Buffer {
  return Buffer.from(JSON.stringify(saved), "utf8");
}

/**
 * Scenario 3: durable appends through `SessionManager.append` (lock, load,
 * validate, atomic write with fsync + rename + directory fsync, index
 * journal, and folding when the history outgrows the default limits),
 * against raw write + fdatasync of the same document bytes in the same run.
 */
export async function durableAppends(sizes: AppendSizes): Promise<Row[]> {
  const { dir, cleanup } = await scratch("append");
  const warnings: string[] = [];
  const manager = await SessionManager.open({ stateDir: join(dir, "state"), config: {}, warn: (m) => warnings.push(m) });
  const rng = new Rng(7);
  try {
    // Warm-up: loads the tokenizer and the compaction code outside the timed part.
    const warm = await manager.create({ key: "dm:bench:warmup" });
    for (let i = 0; i < 10; i++) await manager.append(warm.id, message(rng, i));

    const single = await manager.create({ key: "dm:bench:single" });
    const singleDocs: Buffer[] = [];
    let start = performance.now();
    for (let i = 0; i < sizes.single; i++) singleDocs.push(bytesOf(await manager.append(single.id, message(rng, i))));
    const singleRate = sizes.single / ((performance.now() - start) / 1000);
    const singleRaw = rawAppendRate(join(dir, "raw-single"), singleDocs);
    const singleInPlace = rawAppendRate(join(dir, "raw-single-in-place"), singleDocs, true);

    const ids: string[] = [];
    for (let s = 0; s < sizes.sessions; s++) ids.push((await manager.create({ key: `dm:bench:c${s}` })).id);
    const concurrentDocs: Buffer[] = [];
    start = performance.now();
    await Promise.all(
      ids.map(async (id) => {
        for (let i = 0; i < sizes.perSession; i++) concurrentDocs.push(bytesOf(await manager.append(id, message(rng, i))));
      }),
    );
    const total = sizes.sessions * sizes.perSession;
    const concurrentRate = total / ((performance.now() - start) / 1000);
    const concurrentRaw = rawAppendRate(join(dir, "raw-concurrent"), concurrentDocs);
    if (warnings.length > 0) throw new Error(`warnings during the append benchmark: ${warnings.join("; ")}`);
    const avg = (docs: Buffer[]) => sig(docs.reduce((n, d) => n + d.length, 0) / docs.length / 1024, 3);
    return [
      {
        scenario: "3 durable appends",
        case: `1 session, ${sizes.single} sequential appends`,
        figure: singleRate,
        unit: "appends/s",
        baseline: singleRaw,
        baselineLabel: "raw write+fdatasync",
        ratio: singleRate / singleRaw,
        goal: "≥ 50% of raw",
        met: singleRate >= 0.5 * singleRaw,
        extra: { avgDocumentKiB: avg(singleDocs), rawInPlaceAppendsPerSecond: sig(singleInPlace), ratioToInPlace: sig(singleRate / singleInPlace, 3) },
      },
      {
        scenario: "3 durable appends",
        case: `${sizes.sessions} sessions concurrently, ${total} appends`,
        figure: concurrentRate,
        unit: "appends/s",
        baseline: concurrentRaw,
        baselineLabel: "raw, one fdatasync per append",
        ratio: concurrentRate / concurrentRaw,
        goal: "> raw (beats one fsync/append)",
        met: concurrentRate > concurrentRaw,
        extra: { avgDocumentKiB: avg(concurrentDocs), perSession: sizes.perSession, ratioToSingleSession: sig(concurrentRate / singleRate, 3) },
      },
    ];
  } finally {
    await manager.close();
    await cleanup();
  }
}
