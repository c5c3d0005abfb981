import type { ToolCall } from "../session/types.js";
import { TextMemo } from "./_memo.js";

/** What {@link TokenCounter.countMessage} needs of a message. */
export interface CountableMessage {
  role: string;
  content: string;
  sender?: string | null | undefined;
  toolCalls?: readonly ToolCall[] | undefined;
  toolCallId?: string | undefined;
}

/** Counts tokens for one model; results are what callers cache in `Message.tokens`. */
export interface TokenCounter {
  /** The model the counts are for. */
  readonly model: string;
  /** True when the model uses o200k_base, so counts are exact rather than scaled estimates. */
  readonly exact: boolean;
  /** Multiplier applied to o200k counts (1 when exact). */
  readonly factor: number;
  /** Tokens of a bare string. */
  countText(text: string): number;
  /** Tokens a message costs in a chat request: content, sender label, tool-call JSON and framing. */
  countMessage(m: CountableMessage): number;
}

/**
 * Framing every chat message costs (role and separators); OpenAI's own
 * accounting is 3–4, so 4 errs on the safe side.
 */
export const MESSAGE_OVERHEAD_TOKENS = 4;

// Families whose tokenizer is o200k_base; everything else is scaled by the safety factor.
const O200K_MODEL = /^(?:gpt-4o|chatgpt-4o|gpt-4\.1|gpt-4\.5|gpt-5|gpt-oss|o[134]|codex-mini|computer-use)(?:$|[-.:@_\s])/;

/** True for models that tokenize with o200k_base (gpt-4o, gpt-4.1, gpt-5, o1/o3/o4 …), provider prefix ignored. */
export function isO200kModel(model: string): boolean {
  const bare = model.trim().toLowerCase().split("/").pop() ?? "";
  return O200K_MODEL.test(bare);
}

/** The label group sessions prefix to a user message; counted for every message with a sender so the cache is safe either way. */
export function senderLabel(sender: string): string {
  return `[${sender}]: `;
}

/**
 * Builds a counter from any raw string counter; the real one comes from
 * {@link loadTokenCounter}, tests inject their own to observe calls.
 */
export function createTokenCounter(rawCount: (text: string) => number, model: string, safetyFactor: number): TokenCounter {
  const exact = isO200kModel(model);
  const factor = exact ? 1 : Math.max(1, safetyFactor);
  const scale = (n: number): number => (exact ? n : Math.ceil(n * factor));
  // The rolling summary's notes are counted again at every fold; short texts are remembered.
  // A fold also counts its whole new summary more than once (fitting, clamping, saving): the
  // last few long texts are remembered too.
  const memo = new TextMemo<number>(4096);
  const longMemo = new TextMemo<number>(8);
  const countPiece = (text: string): number => (text.length > LONG_TEXT ? longMemo : memo).remember(text, () => rawCount(text));
  // A long text is counted line by line where the tokenizer cannot merge across the break, each
  // line remembered: a rolling summary keeps most of its lines from one fold to the next.
  const countMemo = (text: string): number => {
    if (text.length <= LONG_TEXT) return countPiece(text);
    let n = 0;
    for (const line of independentLines(text)) n += countPiece(line);
    return n;
  };
  const rawMessage = (m: CountableMessage): number => {
    let n = MESSAGE_OVERHEAD_TOKENS + (m.content.length > LONG_TEXT ? countMemo(m.content) : rawCount(m.content));
    // +1 for the `name` field the builder may also set.
    // A sender's label recurs on every message of theirs: remembered, like the summary's lines.
    if (m.sender) n += countPiece(senderLabel(m.sender)) + 1;
    for (const call of m.toolCalls ?? []) {
      n += rawCount(JSON.stringify({ id: call.id, type: "function", function: { name: call.name, arguments: call.arguments } })) + 3;
    }
    if (m.toolCallId !== undefined) n += rawCount(m.toolCallId) + 1;
    return n;
  };
  return {
    model,
    exact,
    factor,
    countText: (text) => scale(countMemo(text)),
    countMessage: (m) => scale(rawMessage(m)),
  };
}

/** Texts longer than this are counted in independent lines (see {@link independentLines}). */
const LONG_TEXT = 2048;

/**
 * Cuts `text` after each line break the o200k pre-tokenizer never merges
 * across: one followed by a character that is neither whitespace nor "/"
 * (a symbol run may take line breaks and slashes after it, and whitespace
 * runs join), so the counts of the pieces add up to the count of the whole.
 */
export function* independentLines(text: string): Generator<string> {
  let start = 0;
  for (let i = text.indexOf("\n"); i !== -1 && i < text.length - 1; i = text.indexOf("\n", i + 1)) {
    const next = text.charAt(i + 1);
    if (next === "/" || /\s/u.test(next)) continue;
    yield text.slice(start, i + 1);
    start = i + 1;
  }
  yield text.slice(start);
}

type RawCount = (text: string) => number;
let encoderPromise: Promise<RawCount> | undefined;

// BPE time grows with the square of a whitespace-free run's length (200 kB of
// one repeated character takes ~20 s), so long text is counted in pieces cut
// before a space where the tokenizer splits anyway; a run without spaces is
// cut every few hundred characters, which can only add tokens, erring on the
// safe side for budgets.
const COUNT_CHUNK = 2048;
const RUN_CUT = 256;

function* countPieces(text: string): Generator<string> {
  let start = 0;
  while (text.length - start > COUNT_CHUNK) {
    let cut = start + COUNT_CHUNK;
    // Look back only within the window: lastIndexOf would rescan the whole run each time.
    while (cut > start + COUNT_CHUNK / 2 && text.charCodeAt(cut) !== 0x20) cut--;
    if (cut <= start + COUNT_CHUNK / 2) {
      cut = start + RUN_CUT;
      if (/[\uD800-\uDBFF]/.test(text.charAt(cut - 1))) cut--;
    }
    yield text.slice(start, cut);
    start = cut;
  }
  yield text.slice(start);
}

// The encoding table takes a noticeable fraction of a second to load, so it is
// imported only the first time a count is actually needed, then shared.
function loadEncoder(): Promise<RawCount> {
  encoderPromise ??= import("gpt-tokenizer/encoding/o200k_base").then(
    (mod) => {
      // Special-token text typed by a user is ordinary text here, not a control token.
      const options = { disallowedSpecial: new Set<string>() };
      return (text: string) => {
        if (text.length <= COUNT_CHUNK) return text.length === 0 ? 0 : mod.countTokens(text, options);
        let n = 0;
        for (const piece of countPieces(text)) n += mod.countTokens(piece, options);
        return n;
      };
    },
    (err: unknown) => {
      encoderPromise = undefined;
      throw err;
    },
  );
  return encoderPromise;
}

/** Loads (once, lazily) the o200k_base tokenizer and returns a counter for `model`. */
export async function loadTokenCounter(model: string, safetyFactor: number): Promise<TokenCounter> {
  const raw = await loadEncoder();
  return createTokenCounter(raw, model, safetyFactor);
}

/**
 * Cheap estimate, meant to err high, for when no tokenizer is loaded: text is
 * cut into runs of letters, digits, spaces and symbols, and each run is
 * charged what BPE tokenizers typically spend on it.
 */
export function estimateTokens(text: string): number {
  let n = 0;
  for (const run of text.match(/\p{L}+|\p{N}+|[^\S\n]+|\n+|[^\p{L}\p{N}\s]/gu) ?? []) {
    const c = run.codePointAt(0) ?? 0;
    if (/\p{L}/u.test(run)) {
      // Case changes inside a run (camelCase, random keys) usually start a new token.
      const humps = run.match(/\p{Ll}\p{Lu}/gu)?.length ?? 0;
      n += Math.ceil(Buffer.byteLength(run, "utf8") / (c < 0x80 ? 4 : 2.5)) + humps;
    } else if (/\p{N}/u.test(run)) n += Math.ceil(run.length / 3);
    else if (run === " ") n += 0;
    else if (/\s/.test(run)) n += 1;
    else n += Buffer.byteLength(run, "utf8") > 3 ? 2 : 1;
  }
  return n;
}

/**
 * Cuts text that overruns `maxTokens` at the last whole line that fits (a
 * chatty model must not bloat every later context); falls back to a
 * character cut for a single long line.
 */
export function clampToTokens(text: string, maxTokens: number, count: (text: string) => number): string {
  if (count(text) <= maxTokens) return text;
  const lines = text.split("\n");
  let lo = 0;
  let hi = lines.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (count(lines.slice(0, mid).join("\n")) <= maxTokens) lo = mid;
    else hi = mid - 1;
  }
  if (lo > 0) return lines.slice(0, lo).join("\n");
  const chars = Array.from(text);
  let a = 0;
  let b = chars.length;
  while (a < b) {
    const mid = Math.ceil((a + b) / 2);
    if (count(chars.slice(0, mid).join("")) <= maxTokens) a = mid;
    else b = mid - 1;
  }
  return chars.slice(0, a).join("");
}
