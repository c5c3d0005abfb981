import type { Config } from "./config/schema.js";
import { applyFold, planPrune } from "./context/prune.js";
import { createSummarizer, type ResilientSummarizer, type SummaryResult } from "./context/summarizer.js";
import { loadTokenCounter, type TokenCounter } from "./context/tokens.js";
import { resolveWindow, tokenBudget } from "./context/windows.js";
import { isOpenclawError } from "./errors.js";
import type { SessionManager } from "./manager.js";
import { dueForArchive, evaluateExpiry } from "./session/lifecycle.js";
import type { Session } from "./session/types.js";

const counters = new Map<string, Promise<TokenCounter>>();
const summarizers = new WeakMap<SessionManager, ResilientSummarizer>();

/** The manager's configured summarizer (with its extractive fallback), built on first use. */
export function summarizerFor(manager: SessionManager): ResilientSummarizer {
  let s = summarizers.get(manager);
  if (s === undefined) {
    s = createSummarizer(manager.config.sessions.summarizer, manager.summarizerDeps);
    summarizers.set(manager, s);
  }
  return s;
}

/** The token counter for the configured model, loaded once per process. */
export function counterFor(config: Config): Promise<TokenCounter> {
  const key = `${config.sessions.model}\u0000${config.sessions.tokenSafetyFactor}`;
  let c = counters.get(key);
  if (c === undefined) {
    c = loadTokenCounter(config.sessions.model, config.sessions.tokenSafetyFactor);
    counters.set(key, c);
  }
  return c;
}

/** Window and budget for the configured model. */
export function budgetFor(config: Config): { window: number; budget: number; reserve: number; warnings: string[] } {
  const w = resolveWindow(config.sessions);
  const b = tokenBudget(w.window, config.sessions.reserveTokens);
  return { window: w.window, budget: b.budget, reserve: b.reserve, warnings: [w.warning, b.warning].filter((x): x is string => x !== undefined) };
}

/** Outcome of folding one session. */
export interface FoldOutcome {
  session: Session;
  folded: number;
  summarizer: string | null;
  /** Set when a summarizer failed (fallback used) or every summarizer failed (nothing folded). */
  error: string | null;
}

/**
 * Folds the oldest turns of a session into its summary when it is over its
 * limits (or always, with `force`). The summarizer runs outside the lock so a
 * slow model never blocks other writers; the fold is then applied only if the
 * session still holds the planned messages. Folded messages reach the
 * pruned-history log before the document that drops them is saved.
 */
export async function foldSession(manager: SessionManager, session: Session, options: { force?: boolean } = {}): Promise<FoldOutcome> {
  const config = manager.config;
  const { budget } = budgetFor(config);
  const plan = planPrune(session, {
    maxHistoryLength: config.sessions.maxHistoryLength,
    budgetTokens: budget,
    lowWaterMark: config.sessions.lowWaterMark,
    ...(options.force ? { force: true } : {}),
  });
  if (plan === null || plan.fold.length === 0) return { session, folded: 0, summarizer: null, error: null };
  const counter = await counterFor(config);
  const summarizer = summarizerFor(manager);
  let result: SummaryResult;
  try {
    result = await summarizer.summarizeWithFallback({
      previous: session.summary,
      messages: plan.fold,
      maxTokens: summarizer.maxTokens,
      countTokens: (text) => counter.countText(text),
    });
  } catch (err) {
    if (!isOpenclawError(err)) throw err;
    // Nothing is deleted: record the failure so show/status can report it.
    const message = err.message;
    const saved = await manager.update(session.id, (s) => ({ ...s, context: { ...s.context, lastSummarizerError: message } }));
    return { session: saved, folded: 0, summarizer: null, error: message };
  }
  const foldIds = new Set(plan.fold.map((m) => m.id));
  let applied = false;
  const saved = await manager.update(session.id, async (s) => {
    const sameBase = (s.summary?.throughMessageId ?? null) === (session.summary?.throughMessageId ?? null);
    const present = s.messages.filter((m) => foldIds.has(m.id)).length === foldIds.size;
    if (!sameBase || !present) return undefined;
    await manager.store.appendPruned(s.id, plan.fold);
    applied = true;
    return applyFold(s, { fold: plan.fold }, result.text, result.summarizer, counter, manager.now(), result.fallbackError);
  });
  if (applied) await applyRetention(manager, session.id);
  return { session: saved, folded: applied ? plan.fold.length : 0, summarizer: result.summarizer, error: result.fallbackError ?? null };
}

/** After an append: fold when the history outgrew its limits; never fails the append. */
export async function maybeCompact(manager: SessionManager, session: Session): Promise<Session> {
  const outcome = await foldSession(manager, session);
  return outcome.session;
}

/** Trims the pruned-history log to `sessions.retainPrunedHistory` messages. */
export async function applyRetention(manager: SessionManager, id: string): Promise<number> {
  const keep = manager.config.sessions.retainPrunedHistory;
  if (keep === "all") return 0;
  return manager.store.withLock(id, async () => {
    const log = await manager.store.readPruned(id);
    if (log.length <= keep) return 0;
    await manager.store.replacePruned(id, log.slice(log.length - keep));
    return log.length - keep;
  });
}

/** What `compact` did (or would do) to one session. */
export interface CompactAction {
  id: string;
  key: string;
  expired: boolean;
  archived: boolean;
  folded: number;
  error: string | null;
}

/** Report of `sessions compact`. */
export interface CompactReport {
  dryRun: boolean;
  sessions: number;
  touched: number;
  actions: CompactAction[];
  bytesBefore: number;
  bytesAfter: number;
  leftoversRemoved: number;
  indexRebuilt: boolean;
}

/**
 * Marks expired sessions, archives those expired longer than
 * `archiveAfterMs`, folds histories over `maxHistoryLength`, rewrites files,
 * then removes leftovers and rebuilds the index.
 */
export async function compactSessions(
  manager: SessionManager,
  options: { ids?: string[]; dryRun?: boolean; onProgress?: (done: number, total: number) => void },
): Promise<CompactReport> {
  const config = manager.config.sessions;
  const dryRun = options.dryRun === true;
  const bytesBefore = await manager.store.sizeOnDisk();
  const ids = options.ids ?? (await manager.store.list({})).items.map((s) => s.id);
  const actions: CompactAction[] = [];
  let done = 0;
  for (const id of ids) {
    const loaded = await manager.store.get(id);
    options.onProgress?.(++done, ids.length);
    if (loaded === undefined) continue;
    const now = manager.now();
    const before = loaded.session;
    const evaluated = evaluateExpiry(before, config.expirationMs, now);
    const expired = evaluated.status === "expired" && before.status !== "expired";
    const archive = dueForArchive(before, config.expirationMs, config.archiveAfterMs, now) && evaluated.status === "expired";
    const overLength = before.status !== "archived" && !archive && before.messages.length > config.maxHistoryLength;
    const action: CompactAction = { id, key: before.key, expired, archived: archive, folded: 0, error: null };
    if (dryRun) {
      if (overLength) {
        const plan = planPrune(before, { maxHistoryLength: config.maxHistoryLength, budgetTokens: budgetFor(manager.config).budget, lowWaterMark: config.lowWaterMark });
        action.folded = plan?.fold.length ?? 0;
      }
    } else {
      let current = await manager.update(id, (s) => {
        const e = evaluateExpiry(s, config.expirationMs, manager.now());
        if (archive && e.status === "expired") return { ...e, status: "archived", archivedAt: manager.now().toISOString(), updatedAt: manager.now().toISOString() };
        // Rewriting every document also rewrites old files compactly.
        return { ...e };
      });
      if (overLength) {
        const outcome = await foldSession(manager, current);
        current = outcome.session;
        action.folded = outcome.folded;
        action.error = outcome.error;
      }
      await applyRetention(manager, id);
    }
    if (action.expired || action.archived || action.folded > 0 || action.error !== null) actions.push(action);
  }
  const maint = await manager.store.maintain({ dryRun });
  const bytesAfter = dryRun ? bytesBefore : await manager.store.sizeOnDisk();
  return {
    dryRun,
    sessions: ids.length,
    touched: actions.length,
    actions,
    bytesBefore,
    bytesAfter,
    leftoversRemoved: maint.leftoversRemoved,
    indexRebuilt: maint.indexRebuilt,
  };
}
