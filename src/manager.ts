import { randomBytes } from "node:crypto";
import { locateConfig, type ConfigLocation } from "./config/locate.js";
import type { Config } from "./config/schema.js";
import { buildMessage, validateMessage, type NewMessage } from "./_message.js";
import { assertPrefKey, ensureDir, keyLockId, notFound, resolveRef, resolveRefs } from "./_refs.js";
import { routeTarget, type Inbound } from "./routing/route.js";
import { assertValidId, uuidv7 } from "./session/ids.js";
import { parseKey } from "./session/keys.js";
import { archive, assertWritable, evaluateExpiry, expiryCutoff, markActivity, unarchive } from "./session/lifecycle.js";
import { newSession } from "./session/new.js";
import { decideTool, type ToolDecision } from "./session/tools.js";
import type { JsonValue, Message, Session, SessionKind, SessionStatus, ToolPolicy } from "./session/types.js";
import { openStore } from "./store/open.js";
import { KeyedMutex } from "./store/_mutex.js";
export type { NewMessage } from "./_message.js";
export { notFound } from "./_refs.js";
import type { ListPage, SessionStore } from "./store/store.js";
import type { ExportEnvelope } from "./transfer.js";
import type { ImportReport } from "./_transfer-ops.js";
import type { CompactReport, FoldOutcome } from "./_compact.js";
import type { StatusReport } from "./_status.js";
import type { BuiltContext, ContextUsage } from "./context/build.js";
import type { SummarizerDeps } from "./context/summarizer.js";
import { loadManagerConfig } from "./_open.js";
import type { ClearReport, ListOptions, OpenOptions, SessionEdit } from "./_manager-types.js";
export type { ClearReport, ListOptions, OpenOptions, SessionEdit } from "./_manager-types.js";

// Modules only some paths need, loaded on first use. The promise is kept
// because a repeated dynamic import still walks the module resolver (and
// any loader hooks installed), which costs more than the append it serves.
let compactLoaded: Promise<typeof import("./_compact.js")> | undefined;
let buildLoaded: Promise<typeof import("./context/build.js")> | undefined;
const compactModule = () => (compactLoaded ??= import("./_compact.js"));
const buildModule = () => (buildLoaded ??= import("./context/build.js"));

/**
 * The one entry point: routes, locks, loads, mutates, prunes and saves
 * sessions. Every mutation is lock → load → change → save with a revision
 * check, so no update from another process is ever lost, and nothing is
 * cached between calls, so nothing stale is ever served.
 */
export class SessionManager {
  /** The store sessions live in. */
  readonly store: SessionStore;
  /** The effective configuration. */
  readonly config: Config;
  /** Where state and config were found. */
  readonly location: ConfigLocation;
  /** Config warnings met at open (unknown keys). */
  readonly configWarnings: readonly string[];
  /** Dotted config paths set by the file (the rest are defaults). */
  readonly configFromFile: ReadonlySet<string>;
  /** The clock. */
  readonly now: () => Date;
  /** Seams handed to the summarizer when it is built. */
  readonly summarizerDeps: SummarizerDeps;

  private constructor(store: SessionStore, config: Config, location: ConfigLocation, warnings: string[], fromFile: Set<string>, now: () => Date, deps: SummarizerDeps) {
    this.summarizerDeps = deps;
    this.store = store;
    this.config = config;
    this.location = location;
    this.configWarnings = warnings;
    this.configFromFile = fromFile;
    this.now = now;
  }

  /** Loads the config, opens the store, and returns a ready manager. */
  static async open(options: OpenOptions = {}): Promise<SessionManager> {
    const warn = options.warn ?? ((m: string) => process.stderr.write(`warning: ${m}\n`));
    const location = locateConfig({ stateDir: options.stateDir, config: options.configPath });
    const { config, warnings, fromFile } = await loadManagerConfig(options.config, location.configPath);
    for (const w of warnings) warn(w);
    const uri = options.storeUri ?? `file:${location.stateDir}`;
    if (uri.startsWith("file:")) ensureDir(uri.slice("file:".length));
    const store = await openStore(uri, {
      lockTimeoutMs: config.storage.lockTimeoutMs,
      staleLockMs: config.storage.staleLockMs,
      warn,
    });
    return new SessionManager(store, config, location, warnings, fromFile, options.now ?? (() => new Date()), options.summarizerDeps ?? {});
  }

  /** A new time-ordered id. */
  newId(): string {
    return uuidv7(this.now().getTime(), randomBytes(10));
  }

  /** The instant before which created/active sessions count as expired. */
  cutoff(): string | null {
    return expiryCutoff(this.config.sessions.expirationMs, this.now());
  }

  // ---- reading ----------------------------------------------------------

  /**
   * Resolves a reference — full id, unique id prefix (≥ 6 characters) or
   * routing key (newest session with that key) — to a session id.
   */
  async resolve(ref: string): Promise<string> {
    return resolveRef(this.store, ref, this.cutoff());
  }

  /** Loads a session by reference, with its status evaluated now. */
  async get(ref: string): Promise<Session> {
    const id = await this.resolve(ref);
    const loaded = await this.store.get(id);
    if (loaded === undefined) throw notFound(ref);
    return evaluateExpiry(loaded.session, this.config.sessions.expirationMs, this.now());
  }

  /** Loads a session and its on-disk size. */
  async getWithSize(ref: string): Promise<{ session: Session; sizeBytes: number }> {
    const id = await this.resolve(ref);
    const loaded = await this.store.get(id);
    if (loaded === undefined) throw notFound(ref);
    return { session: evaluateExpiry(loaded.session, this.config.sessions.expirationMs, this.now()), sizeBytes: loaded.sizeBytes };
  }

  /** The folded messages of a session, oldest first. */
  async prunedHistory(ref: string): Promise<Message[]> {
    return this.store.readPruned(await this.resolve(ref));
  }

  /** Lists sessions, newest activity first; archived ones only when asked for. */
  async list(options: ListOptions = {}): Promise<ListPage> {
    const statuses: SessionStatus[] | undefined =
      options.status === undefined ? ["created", "active", "expired"] : options.status === "all" ? undefined : [options.status];
    const activeSince =
      options.activeWithinMinutes === undefined ? undefined : new Date(this.now().getTime() - options.activeWithinMinutes * 60_000).toISOString();
    return this.store.list({
      ...(statuses ? { statuses } : {}),
      ...(options.kind ? { kinds: [options.kind] } : {}),
      ...(options.channel !== undefined ? { channel: options.channel } : {}),
      ...(options.key !== undefined ? { key: options.key } : {}),
      ...(activeSince !== undefined ? { activeSince } : {}),
      ...(options.limit !== undefined ? { limit: options.limit } : {}),
      ...(options.offset !== undefined ? { offset: options.offset } : {}),
      expiryCutoff: this.cutoff(),
    });
  }

  // ---- writing ----------------------------------------------------------

  /**
   * Runs lock → load → change → save for one session. `change` returns the
   * new document, or undefined to save nothing. The revision check on save
   * is a second line of defence behind the lock.
   */
  async update(id: string, change: (session: Session) => Session | undefined | Promise<Session | undefined>): Promise<Session> {
    assertValidId(id);
    return this.store.withLock(id, async () => {
      const loaded = await this.store.get(id);
      if (loaded === undefined) throw notFound(id);
      const current = loaded.session;
      const next = await change(current);
      if (next === undefined || next === current) return current;
      return this.store.put(next, current.revision);
    });
  }

  /** Creates a session for a routing key (isolated keys are unique by construction). */
  async create(input: { key: string; participants?: string[] }): Promise<Session> {
    const parsed = parseKey(input.key);
    const id = this.newId();
    const channel = parsed.kind === "isolated" ? "isolated" : parsed.channel;
    const session = newSession({
      id,
      key: input.key,
      kind: parsed.kind,
      channel,
      participants: input.participants ?? [],
      tools: structuredClone(this.config.sessions.tools[parsed.kind]),
      now: this.now(),
    });
    return this.store.withLock(id, () => this.store.put(session, null));
  }

  /**
   * The session an inbound message belongs to, created when needed. A key
   * whose newest session expired or was archived gets a fresh session; the
   * old one stays readable.
   */
  async route(inbound: Inbound): Promise<Session> {
    const target = routeTarget(inbound, this.config.sessions.identityLinks, () => this.newId());
    if (target.alwaysNew) return this.create({ key: target.key, participants: [inbound.senderId] });
    // Serialise routing per key across processes so two first messages never create two sessions.
    return this.store.withLock(keyLockId(target.key), async () => {
      const page = await this.store.list({ key: target.key, limit: 1, expiryCutoff: this.cutoff() });
      const hit = page.items[0];
      if (hit !== undefined && (hit.status === "active" || hit.status === "created")) {
        const loaded = await this.store.get(hit.id);
        if (loaded !== undefined) return loaded.session;
      }
      return this.create({ key: target.key, participants: [inbound.senderId] });
    });
  }

  /**
   * Routes an inbound message and records it: the everyday path of a gateway.
   * Messages for one routing key are recorded in the order this method was called.
   */
  async receive(inbound: Inbound, content: string, options: { pinned?: boolean } = {}): Promise<Session> {
    return this.appendRouted(inbound, { role: "user", content, sender: inbound.senderId, ...(options.pinned ? { pinned: true } : {}) });
  }

  /**
   * Checks a message, routes it to its session (created when needed) and
   * records it. A refused message creates no session.
   */
  async appendRouted(inbound: Inbound, message: NewMessage): Promise<Session> {
    validateMessage(message, this.config.sessions.maxMessageBytes);
    const target = routeTarget(inbound, this.config.sessions.identityLinks, () => this.newId());
    const record = async () => {
      const session = await this.route(inbound);
      return this.#appendNow(session.id, message);
    };
    const saved = target.alwaysNew ? await record() : await this.#order.run(`key:${target.key}`, record);
    return this.#compactAfterAppend(saved);
  }

  /**
   * Records one message: refuses expired/archived sessions and oversized
   * messages, counts tokens once, and folds old turns when the history
   * outgrows its limits. Appends through the same reference are recorded in
   * call order, whatever each one waits for on the way.
   */
  async append(ref: string, message: NewMessage): Promise<Session> {
    const saved = await this.#order.run(`ref:${ref}`, () => this.#appendNow(ref, message));
    return this.#compactAfterAppend(saved);
  }

  async #appendNow(ref: string, message: NewMessage): Promise<Session> {
    const id = await this.resolve(ref);
    const built = await this.buildMessage(message);
    return this.update(id, (s) => {
      const now = this.now();
      assertWritable(s, this.config.sessions.expirationMs, now);
      const participants =
        built.sender !== null && !s.participants.includes(built.sender) ? [...s.participants, built.sender] : s.participants;
      return { ...markActivity(s, now), participants, messages: [...s.messages, built] };
    });
  }

  async #compactAfterAppend(saved: Session): Promise<Session> {
    const { maybeCompact } = await compactModule();
    return maybeCompact(this, saved);
  }

  // Per-reference FIFO queues, entered synchronously at call time, so awaits
  // of different lengths before the store lock (module loading, the
  // tokenizer, id resolution) can never reorder one caller's messages.
  readonly #order = new KeyedMutex();

  /** Validates and builds a message with its token count (the tokenizer is loaded only here). */
  async buildMessage(message: NewMessage): Promise<Message> {
    validateMessage(message, this.config.sessions.maxMessageBytes);
    const { counterFor } = await compactModule();
    return buildMessage(message, await counterFor(this.config), this.newId(), this.now());
  }

  /** Removes messages, summary and pruned history; keeps id, key, preferences, tools and system prompts. */
  async clear(ref: string): Promise<ClearReport> {
    const { clearSession } = await import("./_edit.js");
    return clearSession(this, ref);
  }

  /** Deletes a session and all its files. */
  async delete(ref: string): Promise<string> {
    const id = await this.resolve(ref);
    await this.store.withLock(id, async () => {
      if (!(await this.store.delete(id))) throw notFound(ref);
    });
    return id;
  }

  /** Archives a session (read-only, out of the default list). */
  async archive(ref: string): Promise<Session> {
    return this.update(await this.resolve(ref), (s) => archive(s, this.now()));
  }

  /** Brings an archived session back. */
  async unarchive(ref: string): Promise<Session> {
    return this.update(await this.resolve(ref), (s) => unarchive(s, this.config.sessions.expirationMs, this.now()));
  }

  /**
   * Edits preferences, tool permissions and the system prompt in one locked
   * save. Every input is checked before anything is written.
   */
  async edit(ref: string, changes: SessionEdit): Promise<Session> {
    const { editSession } = await import("./_edit.js");
    return editSession(this, ref, changes);
  }

  /** Sets preferences (JSON values) and removes others in one save. */
  async setPreferences(ref: string, set: Record<string, JsonValue>, unset: readonly string[] = []): Promise<Session> {
    return this.edit(ref, { set, unset });
  }

  /** Reads one preference; undefined when unset. */
  async getPreference(ref: string, key: string): Promise<JsonValue | undefined> {
    assertPrefKey(key);
    return (await this.get(ref)).preferences[key];
  }

  /** Edits tool permissions: adding a pattern to one list removes it from the other. */
  async setTools(ref: string, edit: { allow?: string[]; deny?: string[]; removeAllow?: string[]; removeDeny?: string[] }): Promise<Session> {
    return this.edit(ref, edit);
  }

  /** Whether a session may use a tool, and which pattern decided. */
  decideTool(session: Pick<Session, "tools">, toolName: string): ToolDecision {
    return decideTool(session.tools, toolName);
  }

  /** True when the session may use `toolName` (deny wins). */
  isToolAllowed(session: Pick<Session, "tools">, toolName: string): boolean {
    return decideTool(session.tools, toolName).allowed;
  }

  /** Replaces the system prompts with one prompt (empty text removes them). */
  async setSystemPrompt(ref: string, text: string): Promise<Session> {
    return this.edit(ref, { system: text });
  }

  /** Default tool policy of a kind, from config. */
  defaultTools(kind: SessionKind): ToolPolicy {
    return structuredClone(this.config.sessions.tools[kind]);
  }

  /** Export document of the given references, or of every session with `all`. */
  async exportSessions(refs: readonly string[] | "all"): Promise<ExportEnvelope> {
    const ids = refs === "all" ? (await this.store.list({})).items.map((s) => s.id).reverse() : await this.resolveAll(refs);
    const { exportSessions } = await import("./_transfer-ops.js");
    return exportSessions(this, ids);
  }

  /** Restores an export document; refuses existing ids unless `overwrite`; writes nothing when refused. */
  async importSessions(envelope: ExportEnvelope, options: { overwrite?: boolean; onProgress?: (done: number, total: number) => void } = {}): Promise<ImportReport> {
    const { importSessions } = await import("./_transfer-ops.js");
    return importSessions(this, envelope, options);
  }

  /** Resolves several references, failing on the first that matches nothing; duplicates collapse. */
  async resolveAll(refs: readonly string[]): Promise<string[]> {
    return resolveRefs(this.store, refs, this.cutoff());
  }

  /** Expires, archives, folds and tidies sessions (all, or the given references). */
  async compact(options: { refs?: readonly string[]; dryRun?: boolean; onProgress?: (done: number, total: number) => void } = {}): Promise<CompactReport> {
    const ids = options.refs === undefined || options.refs.length === 0 ? undefined : await this.resolveAll(options.refs);
    const { compactSessions } = await compactModule();
    return compactSessions(this, { ...(ids ? { ids } : {}), ...(options.dryRun ? { dryRun: true } : {}), ...(options.onProgress ? { onProgress: options.onProgress } : {}) });
  }

  /** Folds the oldest turns of one session into its summary now, even under the limits. */
  async foldNow(ref: string): Promise<FoldOutcome> {
    const session = await this.get(ref);
    const { foldSession } = await compactModule();
    return foldSession(this, session, { force: true });
  }

  /** The model-ready message list of a session, within the token budget. */
  async buildContext(ref: string): Promise<BuiltContext> {
    const session = await this.get(ref);
    const { budgetFor, counterFor } = await compactModule();
    const { buildContext } = await buildModule();
    return buildContext(session, budgetFor(this.config).budget, { counter: await counterFor(this.config) });
  }

  /** Tokens by part, window and % used, from cached counts (no tokenizer needed). */
  async contextUsage(ref: string | Session): Promise<ContextUsage> {
    const session = typeof ref === "string" ? await this.get(ref) : ref;
    const { budgetFor } = await compactModule();
    const { contextUsage } = await buildModule();
    const { window, budget } = budgetFor(this.config);
    return contextUsage(session, window, budget);
  }

  /** Window, budget and the warnings met resolving them (unknown model, oversized reserve). */
  async window(): Promise<{ window: number; budget: number; reserve: number; warnings: string[] }> {
    const { budgetFor } = await compactModule();
    return budgetFor(this.config);
  }

  /** Store-wide status; verbose adds per-session usage and memory. */
  async status(options: { verbose?: boolean } = {}): Promise<StatusReport> {
    const { statusReport } = await import("./_status.js");
    return statusReport(this, options);
  }

  /** Releases the store. */
  async close(): Promise<void> {
    await this.store.close();
  }
}
