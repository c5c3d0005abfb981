// Child process for the cross-process tests: appends `count` messages to each
// of the given session ids, round-robin, tagging each with its writer name,
// then prints "done".
import { SessionManager } from "../../src/manager/manager.js";

const [stateDir, writer, countText, ...ids] = process.argv.slice(2);
if (stateDir === undefined || writer === undefined || countText === undefined) throw new Error("usage: stateDir writer count ids...");
const manager = await SessionManager.open({ stateDir, config: { sessions: { maxHistoryLength: 100000 } } });
const count = Number(countText);
const pending: Promise<unknown>[] = [];
for (let i = 0; i < count; i++) {
  for (const id of ids) pending.push(manager.record({ ref: id }, { role: "user", content: `${writer}:${i}`, sender: writer }));
}
await Promise.all(pending);
await manager.close();
process.stdout.write("done\n");
