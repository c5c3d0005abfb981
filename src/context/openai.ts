import { z } from "zod";
import type { SummarizerConfig } from "../config/schema.js";
import { OpenclawError } from "../errors.js";
import type { Message } from "../session/types.js";
import type { SummarizeInput, Summarizer } from "./summarizer-types.js";
import { estimateTokens } from "./tokens.js";
import { DEFAULT_CONTEXT_WINDOW, lookupModelWindow } from "./windows.js";

/** Settings of the HTTP summarizer, as the config schema produces them. */
export type OpenAICompatibleConfig = Extract<SummarizerConfig, { type: "openai-compatible" }>;

/** Seams for tests and embedders; production uses the defaults. */
export interface OpenAICompatibleDeps {
  /** Where `apiKeyEnv` is looked up (default: process.env). */
  env?: Readonly<Record<string, string | undefined>>;
  /** HTTP client (default: global fetch). */
  fetch?: typeof globalThis.fetch;
  /** First retry delay in ms, doubled per retry (default 250). */
  retryDelayMs?: number;
}

const MAX_BACKOFF_MS = 5_000;
const responseSchema = z.object({
  choices: z.array(z.object({ message: z.object({ content: z.string() }) })).min(1),
});

/** `{baseUrl}/chat/completions`, keeping any query string (Azure's api-version) and not doubling the path. */
export function chatCompletionsUrl(baseUrl: string): string {
  const url = new URL(baseUrl);
  const path = url.pathname.replace(/\/+$/, "");
  url.pathname = path.endsWith("/chat/completions") ? path : `${path}/chat/completions`;
  return url.toString();
}

/** The instruction sent as the system message. */
export function summaryInstruction(maxTokens: number): string {
  return [
    "You maintain the rolling summary of a conversation between users and an assistant.",
    "Merge the previous summary (if any) and the new messages into one updated summary that replaces the previous one.",
    "Keep every identifier exactly as written: ids, ticket keys, UUIDs, URLs, e-mail addresses, file paths, code names, @mentions, names, dates, amounts and numbers with their units.",
    "Record decisions, open questions, and who said or asked what.",
    "Use only facts present in the input; never invent or guess.",
    `Stay under ${maxTokens} tokens. Reply with the summary text only.`,
  ].join("\n");
}

/** Creates the summarizer that calls an OpenAI-compatible `/chat/completions` endpoint (OpenAI, Ollama, vLLM …). */
export function createOpenAICompatibleSummarizer(config: OpenAICompatibleConfig, deps: OpenAICompatibleDeps = {}): Summarizer {
  const url = chatCompletionsUrl(config.baseUrl);
  const doFetch = deps.fetch ?? globalThis.fetch;
  const baseDelay = deps.retryDelayMs ?? 250;
  return {
    name: "openai-compatible",
    async summarize(input: SummarizeInput, signal?: AbortSignal): Promise<string> {
      const env = deps.env ?? process.env;
      const key = config.apiKeyEnv === undefined ? undefined : env[config.apiKeyEnv];
      const headers: Record<string, string> = { "content-type": "application/json", accept: "application/json" };
      if (key !== undefined && key !== "") headers.authorization = `Bearer ${key}`;
      const body = JSON.stringify({
        model: config.model,
        messages: [
          { role: "system", content: summaryInstruction(input.maxTokens) },
          { role: "user", content: renderRequest(input, config.model) },
        ],
        temperature: 0,
      });
      const attempts = config.maxRetries + 1;
      let made = 0;
      let last: Outcome | undefined;
      for (let i = 0; i < attempts; i++) {
        if (last !== undefined && !last.ok) await sleep(Math.min(MAX_BACKOFF_MS, last.retryAfterMs ?? baseDelay * 2 ** (i - 1)), signal);
        if (signal?.aborted) {
          last = { ok: false, retry: false, reason: "aborted by caller" };
          break;
        }
        last = await requestOnce(doFetch, url, headers, body, config.timeoutMs, signal);
        made++;
        if (last.ok) return last.text;
        if (!last.retry) break;
      }
      const why = last !== undefined && !last.ok ? last.reason : "no attempt made";
      throw new OpenclawError("SUMMARIZER_FAILED", redact(made > 1 ? `${why} after ${made} attempts` : why, key), { userError: false });
    },
  };
}

type Outcome = { ok: true; text: string } | { ok: false; retry: boolean; reason: string; retryAfterMs?: number };

async function requestOnce(
  doFetch: typeof globalThis.fetch,
  url: string,
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<Outcome> {
  const timeout = AbortSignal.timeout(timeoutMs);
  const combined = signal === undefined ? timeout : AbortSignal.any([signal, timeout]);
  let status: number;
  let raw: string;
  let retryAfter: string | null;
  try {
    // The body is read under the same signal, so a server that stalls mid-response also times out.
    const res = await doFetch(url, { method: "POST", headers, body, signal: combined });
    status = res.status;
    retryAfter = res.headers.get("retry-after");
    raw = await res.text();
  } catch (err) {
    if (signal?.aborted) return { ok: false, retry: false, reason: "aborted by caller" };
    if (timeout.aborted) return { ok: false, retry: true, reason: `timeout of ${timeoutMs} ms` };
    return { ok: false, retry: true, reason: `network error: ${networkReason(err)}` };
  }
  if (status === 429 || status >= 500) {
    const seconds = retryAfter === null ? NaN : Number(retryAfter);
    const outcome: Outcome = { ok: false, retry: true, reason: `HTTP ${status}` };
    if (Number.isFinite(seconds) && seconds >= 0) outcome.retryAfterMs = seconds * 1000;
    return outcome;
  }
  if (status < 200 || status >= 300) {
    // 4xx means the request itself is wrong (model name, key, URL); retrying cannot help.
    const detail = raw.replace(/\s+/g, " ").trim().slice(0, 200);
    return { ok: false, retry: false, reason: `HTTP ${status}${detail === "" ? "" : `: ${detail}`}` };
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return { ok: false, retry: false, reason: "response is not JSON" };
  }
  const parsed = responseSchema.safeParse(json);
  if (!parsed.success) return { ok: false, retry: false, reason: "response has no choices[0].message.content string" };
  // Reasoning models served by Ollama or vLLM may prepend their thinking to the answer.
  const text = (parsed.data.choices[0]?.message.content ?? "").replace(/<think>[\s\S]*?<\/think>/g, "").trim();
  if (text === "") return { ok: false, retry: false, reason: "response content is empty" };
  return { ok: true, text };
}

/**
 * The user message: previous summary, then the transcript. Long messages are
 * clipped so the request fits the summarizing model's own window when it is
 * known (8k assumed otherwise).
 */
function renderRequest(input: SummarizeInput, model: string): string {
  const window = lookupModelWindow(model)?.window ?? DEFAULT_CONTEXT_WINDOW;
  const previous = input.previous?.text.trim() || "(none)";
  const roomTokens = window - input.maxTokens - estimateTokens(previous) - 600;
  const roomChars = Math.max(0, roomTokens) * 3;
  const full = input.messages.map((m) => transcriptLine(m, Number.POSITIVE_INFINITY));
  const total = full.reduce((n, l) => n + l.length, 0);
  const lines =
    total <= roomChars
      ? full
      : input.messages.map((m) => transcriptLine(m, Math.max(200, Math.floor(roomChars / Math.max(1, input.messages.length)))));
  return `Previous summary:\n${previous}\n\nNew messages (oldest first):\n${lines.join("\n")}`;
}

function transcriptLine(m: Message, maxChars: number): string {
  const who = `${m.role}${m.sender ? ` ${m.sender}` : ""}${m.toolCallId !== undefined ? ` (result of ${m.toolCallId})` : ""}`;
  const calls = (m.toolCalls ?? []).map((c) => ` [calls ${c.name} id=${c.id} args=${c.arguments}]`).join("");
  let text = `${m.content}${calls}`;
  if (text.length > maxChars) text = `${text.slice(0, maxChars)} [...]`;
  return `[${m.createdAt}] ${who}: ${text}`;
}

function networkReason(err: unknown): string {
  const cause = err instanceof Error && err.cause instanceof Error ? err.cause : err;
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code === "string") return code;
  return cause instanceof Error ? cause.message : String(cause);
}

/** Removes the API key from text that may echo it (server error bodies, library messages). */
function redact(text: string, key: string | undefined): string {
  return key !== undefined && key.length > 0 ? text.split(key).join("[redacted]") : text;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0 || signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}
