import type { Config } from "../config/schema.js";
import { loadTokenCounter, type TokenCounter } from "./tokens.js";
import { resolveWindow, tokenBudget } from "./windows.js";

const counters = new Map<string, Promise<TokenCounter>>();

/**
 * The model turns go to unless a session names its own: the gateway's
 * upstream model when one is configured (that is what the window must fit),
 * else `sessions.model`.
 */
export function effectiveModel(config: Pick<Config, "sessions"> & { gateway?: { model?: { model: string; provider?: string | undefined } | undefined } }): string {
  const model = config.gateway?.model;
  // The echo model has no window of its own: sessions are planned as for `sessions.model`.
  return model === undefined || model.provider === "echo" ? config.sessions.model : model.model;
}

/** The model a session's turns go to: its `model` preference (set by `/new <model>` and the like) when it is a name, else {@link effectiveModel}. */
export function sessionModel(config: Config, preferences: Readonly<Record<string, unknown>> | undefined): string {
  const own = preferences?.["model"];
  return typeof own === "string" && own.trim() !== "" ? own : effectiveModel(config);
}

/** Window and budget of the model `session`'s turns go to (its `model` preference, else {@link effectiveModel}): what its folds and its context are planned for. */
export function sessionBudget(config: Config, session: { readonly preferences?: Readonly<Record<string, unknown>> | undefined }): Budget {
  return budgetFor(config, sessionModel(config, session.preferences));
}

/** The token counter for the model turns go to, loaded once per process (the tokenizer is imported only here). */
export function counterFor(config: Config): Promise<TokenCounter> {
  const model = effectiveModel(config);
  const key = `${model}\u0000${config.sessions.tokenSafetyFactor}`;
  let c = counters.get(key);
  if (c === undefined) {
    c = loadTokenCounter(model, config.sessions.tokenSafetyFactor);
    counters.set(key, c);
  }
  return c;
}

/** Window, reply reserve and budget of a model, with the warnings met resolving them. */
export interface Budget {
  model: string;
  window: number;
  budget: number;
  reserve: number;
  warnings: string[];
}

const budgets = new WeakMap<Config["sessions"], Map<string, Budget>>();

/**
 * Window and budget for `model` (default: the model turns go to), worked out
 * once per frozen config and model: the manager asks at every append. The
 * reserve is the model's configured `maxOutputTokens` when set, else
 * `sessions.reserveTokens`.
 */
export function budgetFor(config: Config, model: string = effectiveModel(config)): Budget {
  const sessions = config.sessions;
  const frozen = Object.isFrozen(sessions);
  let byModel = frozen ? budgets.get(sessions) : undefined;
  const known = byModel?.get(model);
  if (known !== undefined) return known;
  const models = config.models ?? {};
  const w = resolveWindow({ contextWindow: sessions.contextWindow, model }, models);
  const b = tokenBudget(w.window, models[model]?.maxOutputTokens ?? sessions.reserveTokens);
  const out: Budget = { model, window: w.window, budget: b.budget, reserve: b.reserve, warnings: [w.warning, b.warning].filter((x): x is string => x !== undefined) };
  if (!frozen) return out;
  // Shared by every later caller, so frozen (manager.window() hands out a copy).
  Object.freeze(out.warnings);
  if (byModel === undefined) budgets.set(sessions, (byModel = new Map()));
  byModel.set(model, Object.freeze(out));
  return out;
}

/**
 * Tokens the rolling summary may use: `summarizer.maxTokens` as the floor,
 * or `windowShare` of the window up to `maxShareTokens` when that is more,
 * so a large window is not starved while facts are dropped.
 */
export function summaryBudget(config: Config, window: number = budgetFor(config).window): number {
  const s = config.sessions.summarizer;
  return Math.max(s.maxTokens, Math.min(s.maxShareTokens, Math.floor(window * s.windowShare)));
}

/** Largest message accepted, in tokens: `sessions.maxMessageTokens`, or half the budget for "auto". */
export function messageTokenLimit(config: Config): number {
  const limit = config.sessions.maxMessageTokens;
  return limit === "auto" ? Math.floor(budgetFor(config).budget / 2) : limit;
}
