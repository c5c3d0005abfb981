// Run in a child process: prints how many tokenizer modules were loaded
// after importing the context modules, and after asking for a counter.
import { register } from "node:module";
import { MessageChannel, receiveMessageOnPort } from "node:worker_threads";

const { port1, port2 } = new MessageChannel();
const seen: string[] = [];
register("./context-lazy-hooks.mjs", import.meta.url, { data: { port: port2 }, transferList: [port2] });
// The hooks thread queues its report before it hands a resolution back, so once an import has settled every report
// of it is already waiting here: read synchronously, none can arrive after the count is taken.
const drain = (): void => {
  for (let m = receiveMessageOnPort(port1); m !== undefined; m = receiveMessageOnPort(port1)) seen.push(m.message as string);
};

await import("../../src/context/build.js");
await import("../../src/context/prune.js");
await import("../../src/context/summarizer.js");
await import("../../src/context/windows.js");
const tokens = await import("../../src/context/tokens.js");
drain();
const before = seen.length;
await tokens.loadTokenCounter("gpt-4o", 1);
drain();
console.log(JSON.stringify({ before, after: seen.length }));
