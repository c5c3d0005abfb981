import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { SessionManager } from "../src/manager/manager.js";
import { idRandomBytes, uuidv7 } from "../src/session/ids.js";
import { toSummary } from "../src/session/lifecycle.js";
import type { Message, Session } from "../src/session/types.js";
import { ContentCodec, keyIdOf } from "../src/store/_crypto.js";
import { Keyring } from "../src/store/encryption.js";
import { openFileStore } from "../src/store/file/file-store.js";
import { encodeRecord, recordOf, type LogRecord } from "../src/store/file/_log-format.js";
import { chatText, Rng } from "./_populate.js";
import { median, scratch, sig, type Row } from "./_util.js";

/** Sizes of the encryption scenario. */
export interface EncryptionSizes {
  /** Sequential appends to one session per round. */
  appends: number;
  /** Rounds of each mode, alternated so both see the same disk and neighbours. */
  rounds: number;
}

/** Appends per second through the manager on a fresh file store, sealed with `keyring` or plain, and this process's CPU per append. */
async function appendRate(dir: string, keyring: Keyring | undefined, appends: number, rng: Rng): Promise<{ rate: number; cpuMicros: number }> {
  const store = await openFileStore({ dir, warn: () => undefined, ...(keyring !== undefined ? { keyring } : {}) });
  const manager = await SessionManager.open({ stateDir: dir, store, warn: () => undefined });
  try {
    const session = await manager.create({ key: "dm:bench:enc" });
    const contents = Array.from({ length: appends }, (_, i) => ({ role: i % 2 === 0 ? ("user" as const) : ("assistant" as const), content: chatText(rng, rng.int(6, 60)), sender: i % 2 === 0 ? "u1" : null }));
    // Warm-up outside the clock: the fold thread, the tokenizer and the append path.
    await manager.warmUp();
    for (const m of contents.slice(0, 20)) await manager.record({ ref: session.id }, m);
    const start = performance.now();
    const cpu = process.cpuUsage();
    for (const m of contents) await manager.record({ ref: session.id }, m);
    const used = process.cpuUsage(cpu);
    return { rate: appends / ((performance.now() - start) / 1000), cpuMicros: (used.user + used.system) / appends };
  } finally {
    await manager.close();
  }
}

/**
 * Scenario 11: what encryption at rest costs an append on the file store.
 * Durable appends through `SessionManager.append` with `storage.encryption`
 * on and off, in alternating rounds of the same run (the median of each),
 * and the CPU of framing one log record with and without sealing its
 * message, which is all encryption adds to the append path.
 */
export async function encryptionCost(sizes: EncryptionSizes): Promise<Row[]> {
  const { dir, cleanup } = await scratch("encryption");
  const bytes = randomBytes(32);
  const keyring = new Keyring({ id: keyIdOf(bytes), bytes });
  const rng = new Rng(23);
  try {
    const plainRuns: { rate: number; cpuMicros: number }[] = [];
    const sealedRuns: { rate: number; cpuMicros: number }[] = [];
    for (let r = 0; r < sizes.rounds; r++) {
      plainRuns.push(await appendRate(join(dir, `plain-${r}`), undefined, sizes.appends, rng));
      sealedRuns.push(await appendRate(join(dir, `sealed-${r}`), keyring, sizes.appends, rng));
    }
    const plain = plainRuns.map((x) => x.rate);
    const sealed = sealedRuns.map((x) => x.rate);
    const [on, off] = [median(sealed), median(plain)];
    const [cpuOn, cpuOff] = [median(sealedRuns.map((x) => x.cpuMicros)), median(plainRuns.map((x) => x.cpuMicros))];

    // The records of typical appends, 20k framed each way.
    const store = await openFileStore({ dir: join(dir, "frames"), warn: () => undefined });
    const manager = await SessionManager.open({ stateDir: join(dir, "frames"), store, warn: () => undefined });
    let saved: Session;
    try {
      const s = await manager.create({ key: "dm:bench:frames" });
      saved = (await manager.record({ ref: s.id }, { role: "user", content: chatText(rng, 40), sender: "u1" })).session;
    } finally {
      await manager.close();
    }
    const last = saved.messages.at(-1) as Message;
    // Each record a new message, as appends are: the codec reuses the sealed text of a message it has seen.
    const records = Array.from({ length: 22_000 }, (_, i) => {
      const m = { ...last, id: uuidv7(Date.now(), idRandomBytes()), content: `${last.content} ${i}` };
      return recordOf({ summary: toSummary(saved, 0), last: saved.messages.at(-2)?.id ?? null }, saved.revision, saved, [m], { status: saved.status, size: 0 });
    });
    const frameMicros = (seal: boolean): number => {
      const codec = new ContentCodec(keyring);
      const n = 20_000;
      for (let i = n; i < records.length; i++) encodeRecord(records[i] as LogRecord, seal ? codec : undefined);
      // CPU time, not wall time: on a shared machine the wall clock counts other processes' turns.
      const t = process.cpuUsage();
      for (let i = 0; i < n; i++) encodeRecord(records[i] as LogRecord, seal ? codec : undefined);
      const used = process.cpuUsage(t);
      return (used.user + used.system) / n;
    };
    const [frameOff, frameOn] = [frameMicros(false), frameMicros(true)];
    return [
      {
        scenario: "11 encryption at rest (file store)",
        case: `1 session, ${sizes.appends} sequential appends through the manager, median of ${sizes.rounds} alternating rounds`,
        figure: on,
        unit: "appends/s",
        baseline: off,
        baselineLabel: "same, encryption off",
        ratio: on / off,
        goal: "report",
        met: null,
        extra: { roundsOn: sealed.map((x) => sig(x, 3)).join(" "), roundsOff: plain.map((x) => sig(x, 3)).join(" ") },
      },
      {
        scenario: "11 encryption at rest (file store)",
        case: "CPU of one append through the manager (same rounds)",
        figure: cpuOn,
        unit: "µs",
        baseline: cpuOff,
        baselineLabel: "same, encryption off",
        ratio: cpuOn / cpuOff,
        goal: "report",
        met: null,
      },
      {
        scenario: "11 encryption at rest (file store)",
        case: "framing one append's log record (CPU)",
        figure: frameOn,
        unit: "µs",
        baseline: frameOff,
        baselineLabel: "same, encryption off",
        ratio: frameOn / frameOff,
        goal: "report",
        met: null,
        extra: { addedMicros: sig(frameOn - frameOff, 3) },
      },
    ];
  } finally {
    await cleanup();
  }
}
