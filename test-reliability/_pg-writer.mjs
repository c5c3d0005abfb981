// @ts-check
// Writer child of the PostgreSQL reliability tests:
//   node test-reliability/_pg-writer.mjs <storeUri> <stateDir> <tag> <seconds|-> <user>...
// One concurrent loop per user, as a gateway serving many conversations:
// each records "<tag>:<user>:<n>" in the DM session of <user> on channel
// "rel" through manager.record, with client message id "<tag>-<user>-<n>",
// and prints one line per outcome on stdout:
//   ready                      the store is open and the loops start
//   ack <user> <n> new|dup     the append resolved (dup: a retry found it stored)
//   err <CODE> <json message>  an attempt failed; the same message is retried
//   retry <user> <n> new|dup   an acknowledged message sent again on purpose at
//                              once, as a client unsure of the outcome does (must
//                              say dup): every 10th message
//   resume <user> <n> new|dup  on start, the last message a killed predecessor
//                              stored, sent again (must say dup) when it is among
//                              the newest active messages (client ids are looked
//                              up in the active history and among the last
//                              FOLDED_CLIENT_IDS folded: the resend follows the
//                              read at once, tokenizer loaded first, so the other
//                              writer cannot fold that many in between)
//   done                       the deadline passed and the store closed
// A failed attempt is retried with the same client message id, so an append
// whose outcome was unknown (the connection dropped) is never stored twice.
// A restarted writer resumes after the highest n stored for its tag; the
// in-flight message of a killed one keeps its id, so it is stored once too.
// It runs the built library (dist/): it is restarted many times and a
// TypeScript loader would triple its start-up.
import { SessionManager } from "../dist/manager/manager.js";

const [storeUri, stateDir, tag, secondsArg, ...users] = process.argv.slice(2);
if (storeUri === undefined || stateDir === undefined || tag === undefined || secondsArg === undefined || users.length === 0) {
  process.stderr.write("usage: _pg-writer.mjs <storeUri> <stateDir> <tag> <seconds|-> <user>...\n");
  process.exit(2);
}
const deadline = secondsArg === "-" ? Infinity : Date.now() + Number(secondsArg) * 1000;
const CHANNEL = "rel";
/** Errors a caller is told to retry; anything else ends the writer. */
const RETRYABLE = new Set(["STORE_UNAVAILABLE", "CONFLICT"]);
/** How long one message may keep failing before the writer gives up (longer than any outage the tests cause). */
const GIVE_UP_MS = 90_000;
// Folding every few messages puts whole-document commits with a pruned change among the appends.
const CONFIG = { sessions: { maxHistoryLength: 20, lowWaterMark: 0.5 } };
/** A fold keeps about half of maxHistoryLength: a message among the newest RECENT stays active for several more appends. */
const RECENT = 4;

/** @param {number} ms */
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs `fn` until it succeeds, printing each retryable failure; exits on any other.
 * @template T
 * @param {() => Promise<T>} fn
 * @returns {Promise<T>}
 */
async function retrying(fn) {
  const started = Date.now();
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const code = typeof err === "object" && err !== null && "code" in err ? String(err.code) : "UNKNOWN";
      const message = err instanceof Error ? err.message : String(err);
      process.stdout.write(`err ${code} ${JSON.stringify(message)}\n`);
      if (!RETRYABLE.has(code) || Date.now() - started > GIVE_UP_MS) {
        process.stderr.write(`giving up after ${attempt} attempts: ${code} ${message}\n`);
        process.exit(1);
      }
      await sleep(Math.min(400, 25 * 2 ** Math.min(attempt, 4)) * (0.5 + Math.random()));
    }
  }
}

const manager = await retrying(() => SessionManager.open({ storeUri, stateDir, config: CONFIG, warn: (m) => process.stderr.write(`warning: ${m}\n`) }));

/** @param {string} user */
async function nextNumber(user) {
  const page = await manager.list({ key: `dm:${CHANNEL}:${user}`, status: "all" });
  if (page.items.length === 0) return { n: 0, lastActive: false };
  const envelope = await manager.exportSessions(page.items.map((s) => s.id));
  const prefix = `${tag}:${user}:`;
  let max = -1;
  let active = false;
  for (const s of envelope.sessions) {
    for (const [i, m] of [...s.prunedHistory, ...s.messages].entries()) {
      const n = m.content.startsWith(prefix) ? Number(m.content.slice(prefix.length)) : -1;
      if (n > max) [max, active] = [n, i >= s.prunedHistory.length + s.messages.length - RECENT];
    }
  }
  return { n: max + 1, lastActive: active };
}

/** @param {string} user @param {number} n */
const messageOf = (user, n) => ({ role: /** @type {const} */ ("user"), content: `${tag}:${user}:${n}`, sender: user, clientMessageId: `${tag}-${user}-${n}` });
/** @param {string} user @param {number} n */
const record = (user, n) => retrying(() => manager.record({ inbound: { channel: CHANNEL, senderId: user } }, messageOf(user, n)));

// The first append loads the tokenizer; loaded now, it does not widen the gap between reading where a user stopped and resending.
await (await import("../dist/context/tokens.js")).loadTokenCounter("gpt-4o", 1);
/** @type {Map<string, number>} */
const next = new Map();
await Promise.all(
  users.map(async (user) => {
    const { n, lastActive } = await retrying(() => nextNumber(user));
    next.set(user, n);
    if (lastActive) process.stdout.write(`resume ${user} ${n - 1} ${(await record(user, n - 1)).duplicate ? "dup" : "new"}\n`);
  }),
);
process.stdout.write("ready\n");

/** @param {string} user */
async function writeOne(user) {
  const n = next.get(user) ?? 0;
  const result = await record(user, n);
  // stdout is a pipe: the write is synchronous, so the ack is out before the next append starts.
  process.stdout.write(`ack ${user} ${n} ${result.duplicate ? "dup" : "new"}\n`);
  next.set(user, n + 1);
  if (n % 10 === 9) process.stdout.write(`retry ${user} ${n} ${(await record(user, n)).duplicate ? "dup" : "new"}\n`);
}

await Promise.all(
  users.map(async (user) => {
    while (Date.now() < deadline) await writeOne(user);
  }),
);
await manager.close();
process.stdout.write("done\n");
