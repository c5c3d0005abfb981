import { budgetFor, counterFor, sessionBudget, sessionModel, type Budget } from "../context/budget.js";
import type { BuiltContext, ContextUsage } from "../context/build.js";
import type { SummarizerDeps } from "../context/summarizer.js";
import type { Config } from "../config/schema.js";
import { withDerived } from "../session/derived.js";
import { idRandomBytes, uuidv7 } from "../session/ids.js";
import { expiryCutoff } from "../session/lifecycle.js";
import { evaluateReset, hostTimeZone, longestIdleMs, PolicyCache, policyFor, resetAt, withOneOffTtl, type PolicySubject, type ResetPolicy } from "../session/reset.js";
import type { Message, Session } from "../session/types.js";
import { throwIfAborted } from "../store/_mutex.js";
import type { ListPage } from "../store/store.js";
import { deepFreeze, SessionCache } from "./_cache.js";
import type { Finalize, ManagerContext, WriteOptions } from "./_context.js";
import { buildModule, compactModule } from "./_lazy.js";
import { listQuery, mergedHistory } from "./_list.js";
import type { ManagerLocation, OpenedParts } from "./_open.js";
import { notFound, resolveRef } from "./_refs.js";
import { Writer } from "./_writer.js";
import { Appender } from "./append.js";
import type { Compactor } from "./compact.js";
import { EventHub, type SessionListener } from "./events.js";
import { Observers, type ManagerObserver } from "./_observers.js";
import { Router } from "./routing.js";
import { ChatCommands } from "./chat-commands.js";
import type { ListOptions } from "./types.js";

/** A well-formed id no session is ever given (ids are UUIDv7 with a timestamp), for probing the store. */
const PROBE_ID = "00000000-0000-7000-8000-000000000000";

/**
 * The session manager's services and its reading half: how the services
 * are wired (each sees a narrow context, never the manager), references
 * resolved, sessions loaded and listed, contexts built. SessionManager
 * adds the writes.
 */
export abstract class ManagerReads {
  /** Where state and config were found. */
  readonly location: ManagerLocation;
  /** Config warnings met at open (unknown keys). */
  readonly configWarnings: readonly string[];
  /** Dotted config paths set by the file (the rest are defaults). */
  readonly configFromFile: ReadonlySet<string>;

  /** What the services see: store, config, clock, ids, warnings. */
  protected readonly ctx: ManagerContext;
  protected readonly clock: () => Date;
  protected readonly writer: Writer;
  protected readonly events: EventHub;
  protected readonly router: Router;
  protected readonly deps: SummarizerDeps;
  protected compactor: Promise<Compactor> | undefined;
  protected commands: ChatCommands | undefined;
  protected readonly appender: Appender;
  protected readonly budget: Budget;
  /** Who hears the timings of store operations and folds (see {@link SessionManager.observe}). */
  protected readonly observers = new Observers();

  protected constructor({ store, config, location, warnings, fromFile, now, deps, warn }: OpenedParts) {
    this.location = location;
    this.configWarnings = warnings;
    this.configFromFile = fromFile;
    this.clock = now;
    const frozen = deepFreeze(config);
    const expiryMs = longestIdleMs(frozen.sessions);
    const zone = hostTimeZone();
    const policies = new PolicyCache((s) => policyFor(frozen.sessions, s, zone));
    const ctx: ManagerContext = {
      store,
      config: frozen,
      now,
      newId: () => uuidv7(now().getTime(), idRandomBytes()),
      cutoff: () => expiryCutoff(expiryMs, now()),
      expiryMs,
      resetPolicy: (s) => withOneOffTtl(policies.of(s), s, frozen.gateway.responses.oneOffTtl),
      warn,
    };
    this.ctx = ctx;
    this.budget = budgetFor(frozen);
    // Each session records the model its turns go to (its own model preference, else the configured one).
    const derived = (s: Session) => {
      const b = sessionBudget(frozen, s);
      return { model: b.model, window: b.window };
    };
    const finalize: Finalize = (s, appended) => withDerived(s, derived(s), appended);
    this.events = new EventHub(store, now);
    this.writer = new Writer(store, new SessionCache(frozen.sessions.cacheSize), this.events, finalize, frozen.storage.lockTimeoutMs, this.observers);
    this.router = new Router(ctx, this.writer, finalize);
    this.deps = deps;
    this.appender = new Appender(
      ctx,
      this.writer,
      this.router,
      (ref) => this.resolve(ref),
      async (s, o) => (await this.compaction()).afterAppend(s, o),
    );
  }

  /** The in-chat command service (`/new`, `/reset`, `/compact`, `/status`), built on first use. */
  protected chatCommands(): ChatCommands {
    this.commands ??= new ChatCommands(this.ctx, this.writer, this.router, {
      resolve: (ref, o) => this.resolve(ref, o),
      get: (id, o) => this.get(id, o),
      foldNow: async (id, o) => (await this.compaction()).fold(await this.get(id, o), { ...o, force: true }),
      usage: (s) => this.contextUsage(s),
      resetOf: (s) => this.resetOf(s),
    });
    return this.commands;
  }

  /** The compaction service, built on first use. */
  protected compaction(): Promise<Compactor> {
    this.compactor ??= compactModule().then(({ Compactor }) => new Compactor(this.ctx, this.writer, this.deps, this.observers));
    return this.compactor;
  }

  /** The effective configuration (frozen). */
  get config(): Config {
    return this.ctx.config;
  }

  /** The manager's current time (a test clock when one was given). */
  now(): Date {
    return this.clock();
  }

  /**
   * Calls `listener` for every change to a session: created, appended,
   * edited, compacted, archived, unarchived, expired, cleared, imported,
   * deleted, in order per session. Changes made by other processes arrive
   * too where the store can tell. Returns the function that unsubscribes.
   */
  subscribe(listener: SessionListener): () => void {
    return this.events.subscribe(listener);
  }

  /**
   * Adds an observer of the manager's work: how long each store read,
   * revision check, commit and append took, and each fold. Returns the
   * function that removes it.
   */
  observe(observer: ManagerObserver): () => void {
    return this.observers.add(observer);
  }

  /** Sessions held in the document cache now (at most sessions.cacheSize). */
  cachedSessions(): number {
    return this.writer.cached;
  }

  /** Sessions that would take a message now (created or active, not expired), counted by the store without loading any. */
  async liveSessions(): Promise<number> {
    return (await this.ctx.store.list({ statuses: ["created", "active"], expiryCutoff: this.ctx.cutoff(), limit: 0 })).total;
  }

  /**
   * Asks the store one cheap question (the revision of an id that is never
   * used): resolves when it answers, rejects with its error (CLOSED,
   * STORE_UNAVAILABLE …) when it cannot. For readiness checks.
   */
  async probeStore(): Promise<{ backend: string }> {
    const store = this.ctx.store;
    await store.revisionOf(PROBE_ID);
    return { backend: store.kind };
  }

  // ---- reading ----------------------------------------------------------

  /**
   * Resolves a reference — full id, unique id prefix (≥ 6 characters) or
   * routing key (newest session with that key) — to a session id.
   */
  async resolve(ref: string, options: WriteOptions = {}): Promise<string> {
    throwIfAborted(options.signal);
    return resolveRef(this.ctx.store, ref, this.ctx.cutoff());
  }

  /** Resolves several references, failing on the first that matches nothing; duplicates collapse. */
  async resolveAll(refs: readonly string[]): Promise<string[]> {
    const ids: string[] = [];
    for (const ref of refs) ids.push(await this.resolve(ref));
    return [...new Set(ids)];
  }

  /** Loads a session by reference, with its status evaluated now. The result is read-only (frozen). */
  async get(ref: string, options: WriteOptions = {}): Promise<Session> {
    const session = await this.writer.load(await this.resolve(ref, options), options);
    if (session === undefined) throw notFound(ref);
    return evaluateReset(session, this.ctx.resetPolicy(session), this.now());
  }

  /** Loads a session and its stored size. */
  async getWithSize(ref: string, options: WriteOptions = {}): Promise<{ session: Session; sizeBytes: number }> {
    const id = await this.resolve(ref, options);
    const loaded = await this.ctx.store.get(id);
    if (loaded === undefined) throw notFound(ref);
    return { session: evaluateReset(loaded.session, this.ctx.resetPolicy(loaded.session), this.now()), sizeBytes: loaded.sizeBytes };
  }

  /** The reset policy a session follows, and when it resets under it (null: never; an archived or expired one does not). */
  resetOf(session: PolicySubject & Pick<Session, "status" | "createdAt" | "lastActivityAt">): { policy: ResetPolicy; at: string | null } {
    const policy = this.ctx.resetPolicy(session);
    const live = session.status === "active" || session.status === "created";
    return { policy, at: live ? (resetAt(session, policy)?.toISOString() ?? null) : null };
  }

  /** The folded messages of a session, oldest first. */
  async prunedHistory(ref: string, options: WriteOptions = {}): Promise<Message[]> {
    return this.ctx.store.readPruned(await this.resolve(ref, options));
  }

  /**
   * Every message of a session, oldest first: the pruned-history log, then
   * the active history (a message in both after an interrupted fold appears
   * once). What a client paging through a conversation sees: folding old
   * turns into the summary never makes a message vanish from here.
   */
  async history(ref: string, options: WriteOptions = {}): Promise<Message[]> {
    return mergedHistory(this.ctx.store, await this.get(ref, options));
  }

  /** False only when session `id` certainly holds no message containing `text` (plain, case-insensitive): search's cheap first test. */
  async mayContain(id: string, text: string, options: { pruned?: boolean } = {}): Promise<boolean> {
    return this.ctx.store.mayContain(id, text, options.pruned === true);
  }

  /** Lists sessions, newest activity first; archived ones only when asked for. */
  async list(options: ListOptions & WriteOptions = {}): Promise<ListPage> {
    throwIfAborted(options.signal);
    return this.ctx.store.list(listQuery(options, this.now(), this.ctx.cutoff()));
  }

  /**
   * The model-ready message list of a session, within the budget of the model
   * the turn goes to (`model`, else the session's `model` preference, else the
   * gateway's or configured model); `instructions` are a caller's system text
   * for this turn only, sent after the session's system prompts and counted.
   */
  async buildContext(ref: string, options: WriteOptions & { model?: string | undefined; instructions?: string | undefined } = {}): Promise<BuiltContext & { model: string }> {
    const session = await this.get(ref, options);
    const { buildContext } = await buildModule();
    const model = options.model ?? sessionModel(this.ctx.config, session.preferences);
    const budget = model === this.budget.model ? this.budget : budgetFor(this.ctx.config, model);
    const counter = await counterFor(this.ctx.config);
    const toolResults = this.ctx.config.context.toolResults;
    const opts = { counter, toolResults, ...(options.instructions !== undefined ? { instructions: options.instructions } : {}) };
    let built = buildContext(session, budget.budget, opts);
    // A fold the last append queued may not have landed yet: when the history is over its length limit or does not
    // fit without it, the turn waits for it rather than send the model more messages, or less, than the limits allow.
    const over = session.messages.length > this.ctx.config.sessions.maxHistoryLength || built.droppedTurns > 0 || built.summary === "dropped" || built.summary === "truncated";
    if (over && this.compactor !== undefined && (await (await this.compactor).settle(session.id))) {
      built = buildContext(await this.get(ref, options), budget.budget, opts);
    }
    // The model it was built for goes with it, so the caller asks that model and no other.
    return Object.assign(built, { model });
  }

  /** Tokens by part, window and % used, from cached counts (no tokenizer needed). */
  async contextUsage(ref: string | Session): Promise<ContextUsage> {
    const session = typeof ref === "string" ? await this.get(ref) : ref;
    const { contextUsage } = await buildModule();
    const budget = sessionBudget(this.ctx.config, session);
    return contextUsage(session, budget.window, budget.budget);
  }

  /** Window, budget and the warnings met resolving them (unknown model, oversized reserve): of a model, of the model a session's turns go to, or of the configured one. */
  async window(of?: string | Pick<Session, "preferences">): Promise<Budget> {
    if (of === undefined) return structuredClone(this.budget);
    return structuredClone(typeof of === "string" ? budgetFor(this.ctx.config, of) : sessionBudget(this.ctx.config, of));
  }
}
