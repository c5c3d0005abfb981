import { OpenclawError } from "../errors.js";
import { createModelClient, safeOrigin, type ModelClient, type ModelDeps } from "../model/client.js";
import type { Message } from "../session/types.js";
import { guardSummary, RejectedSummary } from "./_guard.js";
import { SECTION_ORDER, TITLES, type SectionId } from "./_notes.js";
import type { SummarizeInput, Summarizer, SummarizerSettings } from "./summarizer-types.js";
import { estimateTokens } from "./tokens.js";
import { DEFAULT_CONTEXT_WINDOW, lookupModelWindow } from "./windows.js";

/** Settings of the HTTP summarizer, as the config schema produces them. */
export type OpenAICompatibleConfig = Extract<SummarizerSettings, { type: "openai-compatible" }>;

/** Seams for tests and embedders (those of the model client); production uses the defaults. */
export type OpenAICompatibleDeps = ModelDeps;

// What each required section holds, as the model is told.
const SECTION_HINTS: Record<SectionId, string> = {
  about: "who is talking and what the conversation is about",
  preferences: "the user's stated preferences and constraints",
  decisions: "decisions made, by whom",
  open: "questions not yet answered and tasks still pending",
  facts: "every fact with an identifier, as the sentence that gives it meaning",
  notes: "",
};

/** The instruction sent as the system message. */
export function summaryInstruction(maxTokens: number, focus?: string): string {
  const lines = [
    "You maintain the rolling summary of a conversation between users and an assistant.",
    "Merge the previous summary (if any) and the new messages into one updated summary that replaces the previous one; keep what still matters of the previous one.",
    'Write these sections, each heading on its own line exactly as shown, each item a line starting with "- ":',
    ...SECTION_ORDER.filter((s) => s !== "notes").map((s) => `${TITLES[s]} ${SECTION_HINTS[s]}`),
    "Keep every identifier exactly as written: order and ticket numbers, booking codes, flight numbers, phone numbers, IBANs, UUIDs, URLs, e-mail addresses, host names, file paths, versions, dates, times, amounts and numbers with their units.",
    "Give each identifier in the sentence or clause that says what it is, never as a bare token.",
    "When a later message changes a value (a new budget, a new date), keep only the current value.",
    "Use only facts present in the input; never invent or guess.",
    `Stay under ${maxTokens} tokens; drop small talk first. Reply with the summary text only.`,
  ];
  if (focus !== undefined && focus.trim() !== "") lines.push(`The operator asks this summary to focus on: ${focus.trim()}`);
  return lines.join("\n");
}

/**
 * Creates the summarizer that asks an OpenAI-compatible model (OpenAI,
 * Ollama, vLLM …) through the engine's model client, which owns timeouts,
 * retries (429, 5xx, timeouts, connection errors; never other 4xx), abort
 * and key redaction. Every failure is one SUMMARIZER_FAILED line.
 */
export function createOpenAICompatibleSummarizer(config: OpenAICompatibleConfig, deps: OpenAICompatibleDeps = {}): Summarizer {
  const where = `model ${config.model} at ${safeOrigin(config.baseUrl)}`;
  // One client per summarizer: its connections stay open between folds.
  let client: Promise<ModelClient> | undefined;
  return {
    name: "openai-compatible",
    async summarize(input: SummarizeInput, signal?: AbortSignal): Promise<string> {
      let reply: unknown;
      try {
        client ??= createModelClient(config, deps).catch((err: unknown) => {
          client = undefined;
          throw err;
        });
        reply = await (
          await client
        ).complete(
          {
            messages: [
              { role: "system", content: summaryInstruction(input.maxTokens, input.focus) },
              { role: "user", content: renderRequest(input, config.model) },
            ],
            temperature: 0,
          },
          signal,
        );
      } catch (err) {
        // The client's messages are one line with the key and URL credentials already removed (and say how many attempts failed); no cause is kept.
        const why = err instanceof Error ? err.message : String(err);
        throw new OpenclawError("SUMMARIZER_FAILED", why, { userError: false });
      }
      const content = replyContent(reply);
      if (content === undefined) throw failed(where, typeof reply === "string" ? "response is not JSON" : "response has no choices[0].message.content string");
      // Reasoning models served by Ollama or vLLM may prepend their thinking to the answer.
      const text = content.replace(/<think>[\s\S]*?<\/think>/g, "").trim();
      if (text === "") throw failed(where, "response content is empty");
      try {
        return guardSummary(text, input, config.identifiers ?? "strict").text;
      } catch (err) {
        if (err instanceof RejectedSummary) throw failed(where, err.message);
        throw err;
      }
    },
  };
}

/** `choices[0].message.content` when it is a string (the client does not check the shape of a reply). */
function replyContent(reply: unknown): string | undefined {
  const choices = typeof reply === "object" && reply !== null ? (reply as { choices?: unknown }).choices : undefined;
  if (!Array.isArray(choices)) return undefined;
  const content = (choices[0] as { message?: { content?: unknown } } | undefined)?.message?.content;
  return typeof content === "string" ? content : undefined;
}

function failed(where: string, reason: string): OpenclawError {
  return new OpenclawError("SUMMARIZER_FAILED", `${where}: ${reason}`, { userError: false });
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
  const lines = total <= roomChars ? full : input.messages.map((m) => transcriptLine(m, Math.max(200, Math.floor(roomChars / Math.max(1, input.messages.length)))));
  return `Previous summary:\n${previous}\n\nNew messages (oldest first):\n${lines.join("\n")}`;
}

function transcriptLine(m: Message, maxChars: number): string {
  const who = `${m.role}${m.sender ? ` ${m.sender}` : ""}${m.toolCallId !== undefined ? ` (result of ${m.toolCallId})` : ""}`;
  const calls = (m.toolCalls ?? []).map((c) => ` [calls ${c.name} id=${c.id} args=${c.arguments}]`).join("");
  let text = `${m.content}${calls}`;
  if (text.length > maxChars) text = `${text.slice(0, maxChars)} [...]`;
  return `[${m.createdAt}] ${who}: ${text}`;
}
