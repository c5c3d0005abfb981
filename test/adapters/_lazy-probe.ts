// Run in a child process: prints how many modules of the adapter libraries
// (@openai/agents-*, @langchain/*) were loaded by importing the main entry,
// by CLI commands, and then by importing the LangChain adapter.
import { mkdtempSync, rmSync } from "node:fs";
import { register } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MessageChannel } from "node:worker_threads";

const { port1, port2 } = new MessageChannel();
const seen: string[] = [];
port1.on("message", (url: string) => seen.push(url));
port1.unref();
register("./_lazy-hooks.mjs", import.meta.url, { data: { port: port2 }, transferList: [port2] });
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 50));

const dir = mkdtempSync(join(tmpdir(), "openclaw-adapters-lazy-"));
try {
  const main = await import("../../src/index.js");
  const manager = await main.SessionManager.open({ stateDir: dir, warn: () => {} });
  const session = await manager.receive({ channel: "web", senderId: "1" }, "hello");
  await manager.buildContext(session.id);
  await manager.close();
  await settle();
  const library = seen.length;
  const { buildProgram } = await import("../../src/cli/_program.js");
  for (const argv of [["sessions", "append", "--dm", "web:2", "hi"], ["sessions", "list"], ["sessions", "context", "dm:web:2"], ["status"]]) {
    await buildProgram().parseAsync(["node", "openclaw", ...argv, "--state-dir", dir]);
  }
  await settle();
  const cli = seen.length;
  await import("../../src/adapters/langchain/index.js");
  await settle();
  console.log(JSON.stringify({ library, cli, adapter: seen.length }));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
