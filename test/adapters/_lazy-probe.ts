// Run in a child process: prints how many modules of the adapter libraries
// (@openai/agents-*, @langchain/*) were loaded by importing the main entry,
// by CLI commands, and then by importing the LangChain adapter.
import { mkdtempSync, rmSync } from "node:fs";
import { register } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MessageChannel, receiveMessageOnPort } from "node:worker_threads";

const { port1, port2 } = new MessageChannel();
const seen: string[] = [];
register("./_lazy-hooks.mjs", import.meta.url, { data: { port: port2 }, transferList: [port2] });
// The hooks thread queues its report before it hands a resolution back, so once an import has settled every report
// of it is already waiting here: read synchronously, none can arrive after the count is taken.
const drain = (): void => {
  for (let m = receiveMessageOnPort(port1); m !== undefined; m = receiveMessageOnPort(port1)) seen.push(m.message as string);
};

const dir = mkdtempSync(join(tmpdir(), "openclaw-adapters-lazy-"));
try {
  const main = await import("../../src/index.js");
  const manager = await main.SessionManager.open({ stateDir: dir, warn: () => {} });
  const session = await manager.receive({ channel: "web", senderId: "1" }, "hello");
  await manager.buildContext(session.id);
  await manager.close();
  drain();
  const library = seen.length;
  const { buildProgram } = await import("../../src/cli/_program.js");
  for (const argv of [["sessions", "append", "--dm", "web:2", "hi"], ["sessions", "list"], ["sessions", "context", "dm:web:2"], ["status"]]) {
    await buildProgram().parseAsync(["node", "openclaw", ...argv, "--state-dir", dir]);
  }
  drain();
  const cli = seen.length;
  await import("../../src/adapters/langchain/index.js");
  drain();
  console.log(JSON.stringify({ library, cli, adapter: seen.length }));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
