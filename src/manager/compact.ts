import { counterFor, effectiveModel, sessionBudget, summaryBudget } from "../context/budget.js";
import { applyFold, foldDue, planPrune } from "../context/prune.js";
import { createExtractiveSummarizer } from "../context/extractive.js";
import { createThreadedExtractiveSummarizer, type ThreadedSummarizer } from "../context/extractive-thread.js";
import { createSummarizer, type ResilientSummarizer, type SummarizerDeps, type SummaryResult } from "../context/summarizer.js";
import { isOpenclawError } from "../errors.js";
import type { Message, Session } from "../session/types.js";
import { abortable, throwIfAborted } from "../store/_mutex.js";
import type { ManagerContext, SessionWriter, WriteOptions } from "./_context.js";
import type { FoldTiming, Observers } from "./_observers.js";

/** Options of a fold. */
type FoldOptions = WriteOptions & {
  force?: boolean;
  focus?: string;
  keep?: number;
  /**
   * A fold a session's appends made due (it keeps growing): saved as the
   * delta (see Commit.folds), which a store may write as a record its next
   * checkpoint absorbs with the appends. An explicit or bulk compaction
   * saves the whole document: nothing follows for a checkpoint to share.
   */
  delta?: boolean;
};

/** Outcome of folding one session. */
export interface FoldOutcome {
  session: Session;
  folded: number;
  summarizer: string | null;
  /** Set when a summarizer failed (fallback used) or every summarizer failed (nothing folded). */
  error: string | null;
}

/** How long close() lets background folds finish before aborting them. */
export const CLOSE_DRAIN_MS = 2_000;

const oneLine = (err: unknown): string => (err instanceof Error ? err.message : String(err)).split("\n")[0] ?? "unknown error";

/**
 * Folds old turns into summaries. The summarizer runs outside the session
 * lock, so a slow model never blocks other writers; the fold is applied only
 * if the session still holds the planned messages, in one commit with the
 * pruned-history append. A failure never deletes anything: it is recorded
 * on the session (`context.lastSummarizerError`, `…At`).
 */
export class Compactor {
  private summarizer: ResilientSummarizer | undefined;
  private threaded: ThreadedSummarizer | undefined;
  /** Background folds by session id; `again` asks for one more pass after the current one. */
  private readonly running = new Map<string, { done: Promise<void>; again: boolean }>();
  private readonly closing = new AbortController();

  constructor(
    private readonly ctx: ManagerContext,
    private readonly writer: SessionWriter,
    private readonly deps: SummarizerDeps,
    private readonly observers?: Observers,
  ) {}

  /**
   * The configured summarizer (with its extractive fallback), built on first
   * use. The extractive one runs on a worker thread, so a fold's CPU is not
   * taken from the thread that answers requests.
   */
  private summarizerFor(): ResilientSummarizer {
    if (this.summarizer === undefined) {
      const config = this.ctx.config;
      if (this.deps.fallback === undefined) this.threaded = createThreadedExtractiveSummarizer({ model: effectiveModel(config), safetyFactor: config.sessions.tokenSafetyFactor });
      this.summarizer = createSummarizer(config.sessions.summarizer, this.threaded === undefined ? this.deps : { ...this.deps, fallback: this.threaded });
    }
    return this.summarizer;
  }

  /**
   * Starts the fold thread now instead of at the process's second fold, and
   * resolves once it takes folds (or could not start: folds then run on the
   * calling thread, as they would anyway). For long-running processes: a
   * gateway's first folds then cost its request thread nothing.
   */
  async warmUp(): Promise<void> {
    this.summarizerFor();
    await this.threaded?.ready();
  }

  /**
   * What a fold would do, computed and not saved: the messages it would fold
   * and how many bytes the store would change by (the document shrinks, the
   * pruned-history log takes the folded messages, the summary is rewritten).
   * The summary is the offline one, so a preview never calls a model.
   */
  async preview(session: Session): Promise<{ folded: number; bytesDelta: number }> {
    const budget = sessionBudget(this.ctx.config, session);
    const summaryTokens = summaryBudget(this.ctx.config, budget.window);
    const config = this.ctx.config.sessions;
    const plan = planPrune(session, { maxHistoryLength: config.maxHistoryLength, budgetTokens: budget.budget, lowWaterMark: config.lowWaterMark, summaryTokens });
    if (plan === null || plan.fold.length === 0) return { folded: 0, bytesDelta: 0 };
    const counter = await counterFor(this.ctx.config);
    const text = await createExtractiveSummarizer().summarize({ previous: session.summary, messages: plan.fold, maxTokens: summaryTokens, countTokens: (t: string) => counter.countText(t) });
    const next = applyFold(session, { fold: plan.fold }, text, "extractive", counter, this.ctx.now(), undefined);
    const bytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value), "utf8");
    const logged = plan.fold.reduce((n, m) => n + bytes(m) + 1, 0);
    return { folded: plan.fold.length, bytesDelta: bytes(next) - bytes(session) + logged };
  }

  /** Folds the session when it is over its limits (or always, with `force`). Throws only for storage errors and aborts. */
  async fold(session: Session, options: FoldOptions = {}): Promise<FoldOutcome> {
    const config = this.ctx.config.sessions;
    // Planned for the model this session's turns go to (its own model preference, else the gateway's
    // or configured one): a fold sized for a larger window would leave turns the smaller one never sees.
    const budget = sessionBudget(this.ctx.config, session);
    // The summary's room follows the window (summarizer.windowShare), never below summarizer.maxTokens.
    const summaryTokens = summaryBudget(this.ctx.config, budget.window);
    const plan = planPrune(session, {
      maxHistoryLength: config.maxHistoryLength,
      budgetTokens: budget.budget,
      lowWaterMark: config.lowWaterMark,
      summaryTokens,
      ...(options.force ? { force: true } : {}),
      ...(options.keep !== undefined ? { keep: options.keep } : {}),
    });
    if (plan === null || plan.fold.length === 0) return { session, folded: 0, summarizer: null, error: null };
    if (this.observers?.active !== true) return this.foldPlanned(session, plan.fold, summaryTokens, options);
    const startedAt = Date.now();
    const started = performance.now();
    let outcome: FoldTiming["outcome"] = "error";
    let folded = 0;
    try {
      const done = await this.foldPlanned(session, plan.fold, summaryTokens, options);
      outcome = done.folded > 0 || done.error === null ? "ok" : "failed";
      folded = done.folded;
      return done;
    } finally {
      this.observers.fold({ sessionId: session.id, startedAt, ms: performance.now() - started, folded, outcome });
    }
  }

  /** Summarizes `fold` and applies it in one commit, if the session still holds those messages. */
  private async foldPlanned(session: Session, fold: Message[], summaryTokens: number, options: FoldOptions): Promise<FoldOutcome> {
    const config = this.ctx.config.sessions;
    const plan = { fold };
    const counter = await counterFor(this.ctx.config);
    const summarizer = this.summarizerFor();
    // A timer of our own rather than AbortSignal.timeout(), whose timer is unref'd: a summarizer
    // awaiting nothing the event loop knows of must still be abandoned, not end the process.
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(new Error("timed out")), config.compaction.timeoutMs);
    const signal = AbortSignal.any([timeout.signal, this.closing.signal, ...(options.signal ? [options.signal] : [])]);
    let result: SummaryResult;
    try {
      const input = { previous: session.summary, messages: plan.fold, maxTokens: summaryTokens, countTokens: (text: string) => counter.countText(text), ...(options.focus !== undefined ? { focus: options.focus } : {}) };
      // abortable(): a summarizer that ignores its signal still cannot hold the caller past the timeout.
      result = await abortable(summarizer.summarizeWithFallback(input, signal), signal);
    } catch (err) {
      if (this.closing.signal.aborted || options.signal?.aborted) throw err;
      const why = timeout.signal.aborted ? `summarizer timed out after ${config.compaction.timeoutMs} ms (sessions.compaction.timeoutMs)` : oneLine(err);
      return { session: await this.recordError(session.id, why), folded: 0, summarizer: null, error: why };
    } finally {
      clearTimeout(timer);
    }
    const foldIds = new Set(plan.fold.map((m) => m.id));
    let applied = false;
    const saved = await this.writer.mutate(
      session.id,
      (s) => {
        applied = false;
        const sameBase = (s.summary?.throughMessageId ?? null) === (session.summary?.throughMessageId ?? null);
        const present = s.messages.filter((m) => foldIds.has(m.id)).length === foldIds.size;
        if (!sameBase || !present || s.status === "archived") return undefined;
        applied = true;
        const next = applyFold(s, { fold: plan.fold }, result.text, result.summarizer, counter, this.ctx.now(), result.fallbackError);
        return { session: next, reason: "compacted", pruned: { append: plan.fold }, ...(options.delta === true ? { folds: true as const } : {}) };
      },
      options,
    );
    const current = applied ? await this.applyRetention(saved, options) : saved;
    return { session: current, folded: applied ? plan.fold.length : 0, summarizer: result.summarizer, error: result.fallbackError ?? null };
  }

  /**
   * After a saved append: folds in the session's background queue
   * ("background", the default: the append is acknowledged first) or now
   * ("inline", or when the caller waits). Never throws: the append is already safe.
   */
  async afterAppend(session: Session, options: WriteOptions & { waitForFold?: boolean } = {}): Promise<{ session: Session; error: string | null }> {
    if (!this.needsFold(session)) return { session, error: null };
    if (this.ctx.config.sessions.compaction.mode === "background" && options.waitForFold !== true) {
      this.schedule(session.id);
      return { session, error: null };
    }
    try {
      const outcome = await this.fold(session, { ...options, delta: true });
      return { session: outcome.session, error: outcome.folded === 0 ? outcome.error : null };
    } catch (err) {
      const why = `compaction failed: ${oneLine(err)}`;
      if (!isOpenclawError(err, "ABORTED") && !isOpenclawError(err, "CLOSED")) this.ctx.warn(`session ${session.id}: ${why}; the message is stored`);
      return { session, error: why };
    }
  }

  /** Trims the pruned-history log to `sessions.retainPrunedHistory` messages (a commit replacing the log). */
  async applyRetention(session: Session, options: WriteOptions = {}): Promise<Session> {
    const keep = this.ctx.config.sessions.retainPrunedHistory;
    if (keep === "all") return session;
    return this.writer.mutate(
      session.id,
      async (s) => {
        const log = await this.ctx.store.readPruned(s.id);
        if (log.length <= keep) return undefined;
        return { session: { ...s, prunedCount: keep }, reason: "compacted", pruned: { replace: log.slice(log.length - keep) } };
      },
      options,
    );
  }

  /**
   * Lets background folds finish for up to `drainMs` (a command-line append
   * closes right after recording, and its fold should still happen), then
   * aborts the rest (their summarizers) and waits for them to settle. An
   * aborted fold changes nothing: the messages stay in the history.
   */
  async close(drainMs = CLOSE_DRAIN_MS): Promise<void> {
    if (this.running.size > 0 && drainMs > 0) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([this.idle(), new Promise<void>((resolve) => (timer = setTimeout(resolve, drainMs)))]);
      clearTimeout(timer);
    }
    this.closing.abort(new Error("the manager is closing"));
    await Promise.all([...this.running.values()].map((r) => r.done));
    await this.threaded?.close();
  }

  /** Waits for the session's background fold, when one is queued or running (true), including any pass it asked for. */
  async settle(id: string): Promise<boolean> {
    let waited = false;
    for (let run = this.running.get(id); run !== undefined; run = this.running.get(id)) {
      waited = true;
      await run.done;
    }
    return waited;
  }

  /** Waits until no background fold is running (tests, graceful shutdown). */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running.values()].map((r) => r.done));
  }

  private needsFold(session: Session): boolean {
    return foldDue(session, { maxHistoryLength: this.ctx.config.sessions.maxHistoryLength, budgetTokens: sessionBudget(this.ctx.config, session).budget });
  }

  private schedule(id: string): void {
    const run = this.running.get(id);
    if (run !== undefined) {
      run.again = true;
      return;
    }
    const entry = { done: Promise.resolve(), again: true };
    entry.done = (async () => {
      while (entry.again && !this.closing.signal.aborted) {
        entry.again = false;
        try {
          const current = await this.writer.load(id);
          if (current !== undefined) await this.fold(current, { signal: this.closing.signal, delta: true });
        } catch (err) {
          if (!this.closing.signal.aborted) this.ctx.warn(`session ${id}: background compaction failed: ${oneLine(err)}; nothing was lost`);
        }
      }
    })().finally(() => this.running.delete(id));
    this.running.set(id, entry);
  }

  private async recordError(id: string, message: string): Promise<Session> {
    const at = this.ctx.now().toISOString();
    throwIfAborted(this.closing.signal);
    return this.writer.mutate(id, (s) => ({ session: { ...s, context: { ...s.context, lastSummarizerError: message, lastSummarizerErrorAt: at } }, reason: "compacted" }));
  }
}
