// @ts-check
// Writer child of the crash-loop and contention tests:
//   node test-reliability/_writer.mjs <stateDir> <tag> <style> <seconds|-> <user>...
// Writes messages "<tag>:<user>:<n>" to the DM session of each user on
// channel "rel" and prints "ack <user> <n>" once each append has resolved
// (durably saved). It resumes after the highest n already stored for its tag,
// so a restarted writer never repeats a message.
//   style "gateway": one concurrent loop per user through manager.receive,
//                    as a gateway serving many conversations does;
//   style "cli":     round-robin over users, route then append, as
//                    `openclaw sessions append --dm` does.
// WRITER_PACE_MS (default 0) makes each gateway loop wait up to that many
// ms between messages, as a gateway waits for traffic, so other processes'
// lock attempts interleave with its writes instead of queueing behind them.
// It runs the built library rather than the TypeScript sources: it is
// started hundreds of times, and a TypeScript loader would triple its start-up.
import { SessionManager } from "../dist/manager/manager.js";

const [stateDir, tag, style, secondsArg, ...users] = process.argv.slice(2);
if (stateDir === undefined || tag === undefined || (style !== "gateway" && style !== "cli") || secondsArg === undefined || users.length === 0) {
  process.stderr.write("usage: _writer.mjs <stateDir> <tag> gateway|cli <seconds|-> <user>...\n");
  process.exit(2);
}
const deadline = secondsArg === "-" ? Infinity : Date.now() + Number(secondsArg) * 1000;
const CHANNEL = "rel";
const PACE_MS = Number(process.env.WRITER_PACE_MS ?? "0");
const manager = await SessionManager.open({ stateDir, warn: (m) => process.stderr.write(`warning: ${m}\n`) });

/** @param {string} user */
async function nextNumber(user) {
  const page = await manager.list({ key: `dm:${CHANNEL}:${user}`, status: "all" });
  if (page.items.length === 0) return 0;
  const envelope = await manager.exportSessions(page.items.map((s) => s.id));
  const prefix = `${tag}:${user}:`;
  let max = -1;
  for (const s of envelope.sessions) {
    for (const m of [...s.prunedHistory, ...s.messages]) {
      if (m.content.startsWith(prefix)) max = Math.max(max, Number(m.content.slice(prefix.length)));
    }
  }
  return max + 1;
}

/** @type {Map<string, number>} */
const next = new Map();
for (const user of users) next.set(user, await nextNumber(user));

/** @param {string} user */
async function writeOne(user) {
  const n = next.get(user) ?? 0;
  const content = `${tag}:${user}:${n}`;
  if (style === "gateway") {
    await manager.receive({ channel: CHANNEL, senderId: user }, content);
  } else {
    const session = await manager.route({ channel: CHANNEL, senderId: user });
    await manager.record({ ref: session.id }, { role: "user", content, sender: user });
  }
  // stdout is a pipe: the write is synchronous, so the ack is out before the next append starts.
  process.stdout.write(`ack ${user} ${n}\n`);
  next.set(user, n + 1);
}

if (style === "gateway") {
  await Promise.all(
    users.map(async (user) => {
      while (Date.now() < deadline) {
        await writeOne(user);
        if (PACE_MS > 0) await new Promise((resolve) => setTimeout(resolve, Math.random() * PACE_MS));
      }
    }),
  );
} else {
  while (Date.now() < deadline) for (const user of users) await writeOne(user);
}
await manager.close();
process.stdout.write("done\n");
