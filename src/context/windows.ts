import type { Config } from "../config/schema.js";

/** Window used when the model is unknown and no integer `contextWindow` is configured. */
export const DEFAULT_CONTEXT_WINDOW = 8192;

/** Where a resolved window came from. */
export type WindowSource = "config" | "model" | "default";

/** Result of {@link resolveWindow}. */
export interface ResolvedWindow {
  window: number;
  source: WindowSource;
  model: string;
  /** Set when the window is a guess the operator should confirm. */
  warning?: string;
}

/**
 * Known context windows in tokens, keyed by normalized model id. A key matches
 * the id itself and any id continuing it after `-`, `@` or `_` (dated
 * snapshots, Ollama tags, "-instruct" suffixes); the longest key wins, so
 * "gpt-4o-mini" beats "gpt-4o". A `.` never continues a key, so "gpt-5" does
 * not silently claim a future "gpt-5.9".
 */
const KNOWN_WINDOWS: ReadonlyArray<readonly [string, number]> = [
  // OpenAI. GPT-5 models have a 400k window but accept at most 272k input tokens.
  ["gpt-5", 272_000],
  ["gpt-5-chat", 128_000],
  ["gpt-5.1", 272_000],
  ["gpt-5.1-chat", 128_000],
  ["gpt-5.2", 272_000],
  ["gpt-5.2-chat", 128_000],
  ["gpt-4.1", 1_047_576],
  ["gpt-4.5", 128_000],
  ["gpt-4o", 128_000],
  ["chatgpt-4o", 128_000],
  ["gpt-4-turbo", 128_000],
  ["gpt-4-1106", 128_000],
  ["gpt-4-0125", 128_000],
  ["gpt-4", 8_192],
  ["gpt-4-32k", 32_768],
  ["gpt-3.5-turbo", 16_385],
  ["gpt-3.5-turbo-instruct", 4_096],
  ["o1", 200_000],
  ["o1-mini", 128_000],
  ["o1-preview", 128_000],
  ["o3", 200_000],
  ["o3-mini", 200_000],
  ["o4-mini", 200_000],
  ["gpt-oss", 131_072],
  // Anthropic: every Claude 2.1+ model has a 200k window.
  ["claude", 200_000],
  ["claude-2", 100_000],
  ["claude-2.0", 100_000],
  ["claude-2.1", 200_000],
  ["claude-instant", 100_000],
  // Google.
  ["gemini-pro", 30_720],
  ["gemini-1.0-pro", 30_720],
  ["gemini-1.5-pro", 2_097_152],
  ["gemini-1.5-flash", 1_048_576],
  ["gemini-2.0-flash", 1_048_576],
  ["gemini-2.5-pro", 1_048_576],
  ["gemini-2.5-flash", 1_048_576],
  ["gemini-3-pro", 1_048_576],
  ["gemma", 8_192],
  ["gemma2", 8_192],
  ["gemma3", 131_072],
  ["gemma3-1b", 32_768],
  // Meta Llama (ids are normalized to "llama<version>").
  ["llama2", 4_096],
  ["codellama", 16_384],
  ["llama3", 8_192],
  ["llama3.1", 131_072],
  ["llama3.2", 131_072],
  ["llama3.3", 131_072],
  ["llama4-scout", 10_000_000],
  ["llama4-maverick", 1_048_576],
  // Mistral. "mistral" alone is the 7B model Ollama serves under that name.
  ["mistral", 32_768],
  ["mistral-7b", 32_768],
  ["open-mistral-7b", 32_768],
  ["mistral-tiny", 32_768],
  ["mistral-small", 32_768],
  ["mistral-medium", 131_072],
  ["mistral-large", 131_072],
  ["mistral-nemo", 131_072],
  ["open-mistral-nemo", 131_072],
  ["mixtral", 32_768],
  ["mixtral-8x7b", 32_768],
  ["open-mixtral-8x7b", 32_768],
  ["mixtral-8x22b", 65_536],
  ["open-mixtral-8x22b", 65_536],
  ["codestral", 32_768],
  ["codestral-latest", 256_000],
  ["codestral-2501", 256_000],
  ["ministral", 131_072],
  ["pixtral", 131_072],
  // Qwen. Open-weight models are configured for 32k natively (longer needs YaRN scaling).
  ["qwen2", 32_768],
  ["qwen2.5", 32_768],
  ["qwen3", 32_768],
  ["qwen3-coder", 262_144],
  ["qwq", 131_072],
  ["qwen-max", 32_768],
  ["qwen-plus", 131_072],
  ["qwen-turbo", 1_000_000],
  // DeepSeek.
  ["deepseek-chat", 128_000],
  ["deepseek-reasoner", 128_000],
  ["deepseek-v2", 128_000],
  ["deepseek-v3", 128_000],
  ["deepseek-r1", 128_000],
  ["deepseek-coder", 16_384],
  ["deepseek-coder-v2", 128_000],
];

const TABLE = new Map<string, number>(KNOWN_WINDOWS);
const KEYS_LONGEST_FIRST = [...TABLE.keys()].sort((a, b) => b.length - a.length || (a < b ? -1 : 1));
// Cloud catalogs prefix ids with a vendor and a region ("us.anthropic.claude-…", "meta.llama3-1-…").
const VENDOR_DOT_PREFIX = /^(?:[a-z]{2}\.)?(?:anthropic|meta|mistral|cohere|amazon|deepseek|qwen|google|openai)\./;

/**
 * Lower-cases a model id and strips what varies between providers: path
 * prefixes ("anthropic/…", "meta-llama/…", "models/…"), cloud vendor
 * prefixes, "meta-" in front of Llama, and the spelled-out Llama versions
 * ("llama-3.1", "llama3-1", "llama-v3p1") so they all read "llama3.1".
 */
export function normalizeModelId(model: string): string {
  let id = model.trim().toLowerCase();
  id = id.slice(id.lastIndexOf("/") + 1);
  id = id.replace(VENDOR_DOT_PREFIX, "");
  // Ollama tags ("llama3.1:8b") and spaces read like any other suffix.
  id = id.replace(/[\s:]+/g, "-");
  id = id.replace(/^meta-llama/, "llama");
  id = id.replace(/^llama-v(\d+)p(\d+)/, "llama$1.$2");
  id = id.replace(/^llama-(\d)/, "llama$1");
  // Bedrock writes "llama3-1-70b"; a lone digit after the major version is a minor version, "70b" is not.
  id = id.replace(/^llama(\d+)-(\d)(?=-|$)/, "llama$1.$2");
  return id;
}

/** The known window for `model` and the table key that matched, or null when the model is unknown. */
export function lookupModelWindow(model: string): { window: number; key: string } | null {
  const id = normalizeModelId(model);
  for (const key of KEYS_LONGEST_FIRST) {
    if (!id.startsWith(key)) continue;
    const next = id.charAt(key.length);
    if (next === "" || next === "-" || next === "@" || next === "_") {
      return { window: TABLE.get(key) ?? DEFAULT_CONTEXT_WINDOW, key };
    }
  }
  return null;
}

/** Configured windows by model name (`models` in config). */
export type ModelWindows = Readonly<Record<string, { contextWindow: number; maxOutputTokens?: number | undefined }>>;

/**
 * The window to plan for: an integer `contextWindow` wins, else the model's
 * entry in `models`, else its known window, else the default with a warning.
 */
export function resolveWindow(config: Pick<Config["sessions"], "contextWindow" | "model">, models: ModelWindows = {}): ResolvedWindow {
  const model = config.model;
  if (typeof config.contextWindow === "number") return { window: config.contextWindow, source: "config", model };
  const configured = models[model];
  if (configured !== undefined) return { window: configured.contextWindow, source: "config", model };
  const known = lookupModelWindow(model);
  if (known !== null) return { window: known.window, source: "model", model };
  return {
    window: DEFAULT_CONTEXT_WINDOW,
    source: "default",
    model,
    warning:
      `unknown context window for model ${JSON.stringify(model)}: assuming ${DEFAULT_CONTEXT_WINDOW} tokens; ` +
      `set models.${JSON.stringify(model)}.contextWindow (or sessions.contextWindow) to the model's window in tokens`,
  };
}

/** Result of {@link tokenBudget}. */
export interface TokenBudget {
  /** Tokens the context (prompts, summary, messages) may use. */
  budget: number;
  /** Tokens left for the reply. */
  reserve: number;
  /** Set when the configured reserve had to be cut. */
  warning?: string;
}

/**
 * Budget = window − reserveTokens, but never below a quarter of the window:
 * a reserve that large is a misconfiguration, and a context with no room for
 * even the latest message is useless, so the reserve is cut and a warning
 * says so.
 */
export function tokenBudget(window: number, reserveTokens: number): TokenBudget {
  const w = Math.max(1, Math.floor(window));
  const minimum = Math.max(1, Math.floor(w / 4));
  const wanted = w - Math.max(0, Math.floor(reserveTokens));
  if (wanted >= minimum) return { budget: wanted, reserve: w - wanted };
  return {
    budget: minimum,
    reserve: w - minimum,
    warning: `sessions.reserveTokens (${reserveTokens}) leaves less than a quarter of the ${w}-token window for the context; ` + `using a budget of ${minimum} tokens: lower reserveTokens or raise sessions.contextWindow`,
  };
}
