import { join } from "node:path";
import { SessionManager } from "../src/manager/manager.js";
import { idRandomBytes, uuidv7 } from "../src/session/ids.js";
import { toSummary } from "../src/session/lifecycle.js";
import type { Message, Session } from "../src/session/types.js";
import { openFileStore } from "../src/store/file/file-store.js";
import { encodeRecord, recordOf } from "../src/store/file/_log-format.js";
import { chatText, Rng } from "./_populate.js";
import { rawAppendRate, type AppendSizes } from "./appends.js";
import { appendThroughStore, scratch, sig, type Row } from "./_util.js";

/** A valid message for the store: the first one the manager stored, with a new id, time and text. */
function nextMessage(template: Message, rng: Rng, i: number): Message {
  const user = i % 2 === 0;
  return { ...template, id: uuidv7(Date.now(), idRandomBytes()), role: user ? "user" : "assistant", sender: user ? "u1" : null, content: chatText(rng, rng.int(6, 60)), createdAt: new Date().toISOString() };
}

/** `count` valid messages for the store after `template`, made before the clock starts. */
function messagesAfter(template: Message, rng: Rng, count: number): Message[] {
  return Array.from({ length: count }, (_, i) => nextMessage(template, rng, i));
}

/** Each appended record's frame (same encoding), for the raw baseline: made after the clock stops. */
function framesOf(saved: readonly Session[]): Buffer[] {
  return saved.map((s) => encodeRecord(recordOf({ summary: toSummary(s, 0), last: s.messages.at(-2)?.id ?? null }, s.revision, s, s.messages.slice(-1), { status: s.status, size: 0 })));
}

/**
 * Scenario 3b: the same durable appends through the file store's append
 * capability alone (session lock, revision check, framed and checksummed
 * log record, group commit), without the manager's routing, validation,
 * token counting, events and folding, against raw write+fdatasync of
 * records of the same size in the same run. It shows what the log itself
 * costs; the goals are the manager's (scenario 3), so these are reported.
 */
export async function storeAppends(sizes: AppendSizes): Promise<Row[]> {
  const { dir, cleanup } = await scratch("append-store");
  const store = await openFileStore({ dir: join(dir, "state"), warn: (m) => process.stderr.write(`warning: ${m}\n`) });
  const manager = await SessionManager.open({ stateDir: join(dir, "state"), store, warn: () => undefined });
  const rng = new Rng(11);
  try {
    const begin = async (key: string): Promise<{ session: Session; template: Message }> => {
      const r = await manager.record({ ref: (await manager.create({ key })).id }, { role: "user", content: "hello" });
      return { session: r.session, template: r.message };
    };
    const warm = await begin("dm:bench:store-warmup");
    // Enough for the append path to be compiled before it is timed.
    await appendThroughStore(store, warm.session, messagesAfter(warm.template, rng, 200));

    const single = await begin("dm:bench:store-single");
    const singleInput = messagesAfter(single.template, rng, sizes.single);
    let started = performance.now();
    const singleSaved = await appendThroughStore(store, single.session, singleInput);
    const singleRate = sizes.single / ((performance.now() - started) / 1000);
    const singleRaw = rawAppendRate(join(dir, "raw-single"), framesOf(singleSaved));

    const starts = [];
    for (let s = 0; s < sizes.sessions; s++) starts.push(await begin(`dm:bench:store-c${s}`));
    const inputs = starts.map((b) => messagesAfter(b.template, rng, sizes.perSession));
    started = performance.now();
    const concurrentSaved = (await Promise.all(starts.map((b, s) => appendThroughStore(store, b.session, inputs[s] ?? [])))).flat();
    const total = sizes.sessions * sizes.perSession;
    const concurrentRate = total / ((performance.now() - started) / 1000);
    const concurrentRaw = rawAppendRate(join(dir, "raw-concurrent"), framesOf(concurrentSaved));
    return [
      {
        scenario: "3b appends, file store alone",
        case: `1 session, ${sizes.single} sequential appends`,
        figure: singleRate,
        unit: "appends/s",
        baseline: singleRaw,
        baselineLabel: "raw write+fdatasync",
        ratio: singleRate / singleRaw,
        goal: "report",
        met: null,
        extra: { microsPerAppend: sig(1e6 / singleRate, 3), rawMicrosPerFlush: sig(1e6 / singleRaw, 3) },
      },
      {
        scenario: "3b appends, file store alone",
        case: `${sizes.sessions} sessions concurrently, ${total} appends`,
        figure: concurrentRate,
        unit: "appends/s",
        baseline: concurrentRaw,
        baselineLabel: "raw, one fdatasync per append",
        ratio: concurrentRate / concurrentRaw,
        goal: "report",
        met: null,
        extra: { perSession: sizes.perSession },
      },
    ];
  } finally {
    await manager.close();
    await cleanup();
  }
}
