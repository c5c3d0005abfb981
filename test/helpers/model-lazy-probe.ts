// Run in a child process: prints how many modules of the HTTP client (undici)
// and of the openai SDK were loaded by `sessions list` (with an LLM summarizer
// configured), by importing the summarizer, and by a summarizer call.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { register } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MessageChannel, receiveMessageOnPort } from "node:worker_threads";

const { port1, port2 } = new MessageChannel();
const seen: string[] = [];
register("./model-lazy-hooks.mjs", import.meta.url, { data: { port: port2 }, transferList: [port2] });
const count = (pkg: string): number => seen.filter((url) => url.includes(`/node_modules/${pkg}/`)).length;
const counts = () => ({ undici: count("undici"), openai: count("openai") });
// The hooks thread queues its report before it hands a resolution back, so once an import has settled every report
// of it is already waiting here: read synchronously, none can arrive after the count is taken.
const drain = (): void => {
  for (let m = receiveMessageOnPort(port1); m !== undefined; m = receiveMessageOnPort(port1)) seen.push(m.message as string);
};

const summarizer = { type: "openai-compatible", baseUrl: "http://127.0.0.1:9/v1", model: "llama3.1:8b", timeoutMs: 500, maxRetries: 0, maxTokens: 400 } as const;
const dir = mkdtempSync(join(tmpdir(), "openclaw-lazy-"));
try {
  writeFileSync(join(dir, "config.json"), JSON.stringify({ sessions: { summarizer } }));
  const { buildProgram } = await import("../../src/cli/_program.js");
  await buildProgram().parseAsync(["node", "openclaw", "sessions", "list", "--state-dir", dir]);
  drain();
  const list = counts();
  const { createSummarizer } = await import("../../src/context/summarizer.js");
  await import("../../src/context/openai.js");
  drain();
  const imported = counts();
  const r = await createSummarizer(summarizer).summarizeWithFallback({ previous: null, messages: [], maxTokens: 400 });
  drain();
  console.log(JSON.stringify({ list, imported, called: counts(), fellBack: r.fallbackError !== undefined }));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
