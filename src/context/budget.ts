import type { Config } from "../config/schema.js";
import { loadTokenCounter, type TokenCounter } from "./tokens.js";
import { resolveWindow, tokenBudget } from "./windows.js";

const counters = new Map<string, Promise<TokenCounter>>();

/** The token counter for the configured model, loaded once per process (the tokenizer is imported only here). */
export function counterFor(config: Config): Promise<TokenCounter> {
  const key = `${config.sessions.model}\u0000${config.sessions.tokenSafetyFactor}`;
  let c = counters.get(key);
  if (c === undefined) {
    c = loadTokenCounter(config.sessions.model, config.sessions.tokenSafetyFactor);
    counters.set(key, c);
  }
  return c;
}

/** Window, reply reserve and budget of the configured model, with the warnings met resolving them. */
export interface Budget {
  window: number;
  budget: number;
  reserve: number;
  warnings: string[];
}

const budgets = new WeakMap<Config["sessions"], Budget>();

/** Window and budget for the configured model (worked out once per frozen config: the manager asks at every append). */
export function budgetFor(config: Config): Budget {
  const sessions = config.sessions;
  const frozen = Object.isFrozen(sessions);
  const known = frozen ? budgets.get(sessions) : undefined;
  if (known !== undefined) return known;
  const w = resolveWindow(sessions);
  const b = tokenBudget(w.window, sessions.reserveTokens);
  const out: Budget = { window: w.window, budget: b.budget, reserve: b.reserve, warnings: [w.warning, b.warning].filter((x): x is string => x !== undefined) };
  if (!frozen) return out;
  // Shared by every later caller, so frozen (manager.window() hands out a copy).
  Object.freeze(out.warnings);
  budgets.set(sessions, Object.freeze(out));
  return out;
}

/**
 * Tokens the rolling summary may use: `summarizer.maxTokens` as the floor,
 * or `windowShare` of the window up to `maxShareTokens` when that is more,
 * so a large window is not starved while facts are dropped.
 */
export function summaryBudget(config: Config, window: number = resolveWindow(config.sessions).window): number {
  const s = config.sessions.summarizer;
  return Math.max(s.maxTokens, Math.min(s.maxShareTokens, Math.floor(window * s.windowShare)));
}

/** Largest message accepted, in tokens: `sessions.maxMessageTokens`, or half the budget for "auto". */
export function messageTokenLimit(config: Config): number {
  const limit = config.sessions.maxMessageTokens;
  return limit === "auto" ? Math.floor(budgetFor(config).budget / 2) : limit;
}
