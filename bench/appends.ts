import { closeSync, fdatasyncSync, openSync, writeSync } from "node:fs";
import { join } from "node:path";
import { loadTokenCounter } from "../src/context/tokens.js";
import { SessionManager } from "../src/manager/manager.js";
import type { Session } from "../src/session/types.js";
import { chatText, Rng } from "./_populate.js";
import { scratch, sig, warmUpFolds, type Row } from "./_util.js";

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

/**
 * The bytes an append through a log-structured store must make durable: the
 * appended message plus the header fields an append changes, framed, the
 * same payload the file store's log record carries. The raw baseline writes
 * exactly these, one write + one fdatasync per append.
 */
function bytesOf(saved: Session): Buffer {
  const { status, updatedAt, lastActivityAt, expiredAt, archivedAt, participants, context } = saved;
  const last = saved.messages.at(-1);
  const payload = JSON.stringify({
    id: saved.id,
    base: saved.revision - 1,
    rev: saved.revision,
    after: saved.messages.at(-2)?.id ?? null,
    ps: status,
    h: { status, updatedAt, lastActivityAt, expiredAt, archivedAt, participants, context },
    m: [last],
    s: {
      id: saved.id,
      key: saved.key,
      kind: saved.kind,
      channel: saved.channel,
      status,
      messageCount: saved.messages.length,
      tokens: 0,
      createdAt: saved.createdAt,
      updatedAt,
      lastActivityAt,
      expiredAt,
      archivedAt,
      revision: saved.revision,
      sizeBytes: 0,
    },
  });
  return Buffer.concat([Buffer.alloc(8), Buffer.from(payload, "utf8")]);
}

/**
 * Scenario 3: durable appends through `SessionManager.append` (session lock,
 * revision check against the document and the log, one log record made
 * durable by a flush shared with every append waiting at that moment, and
 * folding when the history outgrows the default limits), against raw write +
 * fdatasync of the same record bytes, one fdatasync per append, in the same
 * run.
 */
export async function durableAppends(sizes: AppendSizes): Promise<Row[]> {
  const { dir, cleanup } = await scratch("append");
  const warnings: string[] = [];
  const manager = await SessionManager.open({ stateDir: join(dir, "state"), config: {}, warn: (m) => warnings.push(m) });
  const rng = new Rng(7);
  try {
    // Warm-up: loads the tokenizer and the compaction code, and folds twice, outside the timed part.
    await warmUpFolds(manager, "dm:bench:warmup", (i) => message(rng, i));

    const single = await manager.create({ key: "dm:bench:single" });
    // Inputs are made before the clock starts and the baseline's bytes after it stops: neither is the store's work.
    const contents = Array.from({ length: sizes.single }, (_, i) => message(rng, i));
    const singleSaved: Session[] = [];
    let start = performance.now();
    for (const m of contents) singleSaved.push((await manager.record({ ref: single.id }, m)).session);
    const singleRate = sizes.single / ((performance.now() - start) / 1000);
    const singleDocs = singleSaved.map(bytesOf);
    const singleRaw = rawAppendRate(join(dir, "raw-single"), singleDocs);
    const singleInPlace = rawAppendRate(join(dir, "raw-single-in-place"), singleDocs, true);
    // A sequential append waits for its own flush before the next one starts, so ≥ 0.8× raw leaves
    // each append 0.25 × one flush of CPU; counting the same messages' tokens, which any store needs, is shown against it.
    const counter = await loadTokenCounter("gpt-4o", 1);
    const countStart = performance.now();
    for (const m of contents) counter.countMessage(m);
    const countMicros = ((performance.now() - countStart) * 1000) / contents.length;
    const cpuAllowanceMicros = (0.25 * 1e6) / singleRaw;

    const ids: string[] = [];
    for (let s = 0; s < sizes.sessions; s++) ids.push((await manager.create({ key: `dm:bench:c${s}` })).id);
    const inputs = ids.map(() => Array.from({ length: sizes.perSession }, (_, i) => message(rng, i)));
    const concurrentSaved: Session[] = [];
    start = performance.now();
    await Promise.all(
      ids.map(async (id, s) => {
        for (const m of inputs[s] ?? []) concurrentSaved.push((await manager.record({ ref: id }, m)).session);
      }),
    );
    const total = sizes.sessions * sizes.perSession;
    const concurrentRate = total / ((performance.now() - start) / 1000);
    const concurrentDocs = concurrentSaved.map(bytesOf);
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
        goal: "≥ 0.8× raw",
        met: singleRate >= 0.8 * singleRaw,
        extra: {
          avgRecordKiB: avg(singleDocs),
          rawInPlaceAppendsPerSecond: sig(singleInPlace),
          ratioToInPlace: sig(singleRate / singleInPlace, 3),
          cpuAllowanceMicrosAtGoal: sig(cpuAllowanceMicros, 3),
          tokenCountMicrosPerMessage: sig(countMicros, 3),
        },
      },
      {
        scenario: "3 durable appends",
        case: `${sizes.sessions} sessions concurrently, ${total} appends`,
        figure: concurrentRate,
        unit: "appends/s",
        baseline: concurrentRaw,
        baselineLabel: "raw, one fdatasync per append",
        ratio: concurrentRate / concurrentRaw,
        goal: "≥ 5× raw",
        met: concurrentRate >= 5 * concurrentRaw,
        extra: { avgRecordKiB: avg(concurrentDocs), perSession: sizes.perSession, ratioToSingleSession: sig(concurrentRate / singleRate, 3) },
      },
    ];
  } finally {
    await manager.close();
    await cleanup();
  }
}
