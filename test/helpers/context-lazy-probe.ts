// Run in a child process: prints how many tokenizer modules were loaded
// after importing the context modules, and after asking for a counter.
import { register } from "node:module";
import { MessageChannel } from "node:worker_threads";

const { port1, port2 } = new MessageChannel();
const seen: string[] = [];
port1.on("message", (url: string) => seen.push(url));
port1.unref();
register("./context-lazy-hooks.mjs", import.meta.url, { data: { port: port2 }, transferList: [port2] });
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 50));

await import("../../src/context/build.js");
await import("../../src/context/prune.js");
await import("../../src/context/summarizer.js");
await import("../../src/context/windows.js");
const tokens = await import("../../src/context/tokens.js");
await settle();
const before = seen.length;
await tokens.loadTokenCounter("gpt-4o", 1);
await settle();
console.log(JSON.stringify({ before, after: seen.length }));
