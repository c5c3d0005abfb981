// Child process for the crash and two-writer tests:
//   node --import tsx store-appender.ts <stateDir> <sessionId> <tag> [count|-] [ballastBytes]
// Appends messages "<tag>:<n>" to one session, each as lock → get → commit
// (reason "created" for the first, "appended" after), and prints "ack <n>"
// once the commit has resolved. It resumes after the highest n
// already stored for its tag, so a restarted writer never repeats itself.
// Ballast (a large preference) makes each write long enough that a kill
// often lands inside it.
import { randomBytes } from "node:crypto";
import { uuidv7 } from "../../src/session/ids.js";
import { newSession } from "../../src/session/new.js";
import type { Message, Session } from "../../src/session/types.js";
import { openFileStore } from "../../src/store/file/file-store.js";

const [dir, id, tag, countArg, ballastArg] = process.argv.slice(2);
if (dir === undefined || id === undefined || tag === undefined) {
  process.stderr.write("usage: store-appender <stateDir> <sessionId> <tag> [count]\n");
  process.exit(2);
}
const count = countArg === undefined || countArg === "-" ? Infinity : Number(countArg);
const ballast: Record<string, string> = ballastArg === undefined ? {} : { ballast: "b".repeat(Number(ballastArg)) };
const store = await openFileStore({ dir, lockTimeoutMs: 30_000, warn: (m) => process.stderr.write(`warning: ${m}\n`) });

/** Sequence numbers of `tag` in the document, in stored order. */
function sequence(session: Session | undefined): number[] {
  const prefix = `${tag}:`;
  return (session?.messages ?? []).filter((m) => m.content.startsWith(prefix)).map((m) => Number(m.content.slice(prefix.length)));
}

let n = Math.max(-1, ...sequence((await store.get(id))?.session)) + 1;
while (n < count) {
  const now = new Date();
  const message: Message = { id: uuidv7(now.getTime(), randomBytes(10)), role: "user", content: `${tag}:${n}`, sender: tag, createdAt: now.toISOString(), tokens: 1, pinned: false };
  await store.withLock(id, async (held) => {
    const loaded = await store.get(id);
    if (loaded === undefined) {
      const fresh = newSession({ id, key: `isolated:appender:${id}`, kind: "isolated", channel: "test", now });
      await store.commit({ session: { ...fresh, status: "active", preferences: ballast, messages: [message] }, expectedRevision: null, reason: "created", held });
    } else {
      await store.commit({ session: { ...loaded.session, messages: [...loaded.session.messages, message] }, expectedRevision: loaded.session.revision, reason: "appended", held });
    }
  });
  process.stdout.write(`ack ${n}\n`);
  n++;
}
await store.close();
