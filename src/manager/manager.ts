import type { Inbound } from "../routing/route.js";
import type { ExportEnvelope } from "../session/export.js";
import { parseKey, taskKeyKind } from "../session/keys.js";
import { assertValidId } from "../session/ids.js";
import { OpenclawError } from "../errors.js";
import { decideTool, type ToolDecision } from "../session/tools.js";
import type { JsonValue, Message, Session, SessionKind, ToolPolicy } from "../session/types.js";
import { throwIfAborted } from "../store/_mutex.js";
import type { WriteOptions } from "./_context.js";
import { validateMessage, type NewMessage } from "./_message.js";
import { compactAllModule, statusModule, transferModule } from "./_lazy.js";
import { forkSession, type ForkOptions, type ForkResult } from "./fork.js";
import { openParts, type OpenedParts } from "./_open.js";
import { ManagerReads } from "./_reads.js";
import { assertPrefKey, notFound } from "./_refs.js";
import { deleteAll, loadAll, refOf, selectForDelete, setArchived, type SessionRef } from "./admin.js";
import type { AppendResult, AppendTarget, RecordOptions } from "./append.js";
import type { CompactReport } from "./compact-all.js";
import type { FoldOutcome } from "./compact.js";
import { clearSession, deleteMessage, editSession } from "./edit.js";
import { TurnKeeper } from "./turn.js";
import type { StatusReport } from "./status.js";
import type { UsageOptions, UsageReport } from "./usage.js";
import type { RescopeReport } from "./rescope.js";
import type { PruneOptions, PruneReport } from "./retention.js";
import type { ImportOptions, ImportReport } from "./transfer.js";
import type { AppendOptions, ClearReport, OpenOptions, SessionEdit } from "./types.js";
export type { AppendOptions } from "./types.js";
export type { FoldTiming, ManagerObserver, StoreOp } from "./_observers.js";

/**
 * The one entry point: routes, loads, changes and saves sessions through
 * services (append, compaction, editing, transfer, status) that each see a
 * narrow context, never this class. Every write is lock (or optimistic
 * retry) → load → change → commit with a revision check → event, so no
 * update from another process is ever lost; loaded documents are cached and
 * reused only while the store still holds their revision.
 */
export class SessionManager extends ManagerReads {
  #closed: Promise<void> | undefined;
  /** Turn leases, kept between back-to-back turns of a session (made on first use). */
  #turns: TurnKeeper | undefined;

  private constructor(parts: OpenedParts) {
    super(parts);
  }

  /** Loads the config, opens the store, and returns a ready manager. */
  static async open(options: OpenOptions = {}): Promise<SessionManager> {
    return new SessionManager(await openParts(options));
  }

  // ---- writing ----------------------------------------------------------

  /** A new session with the history of `ref` up to a message (summary, pruned history, pinned and settings included); `ref` is only read. */
  async fork(ref: string, fork: ForkOptions = {}, options: WriteOptions = {}): Promise<ForkResult> {
    return forkSession(this.ctx, this.writer, this.router, await this.resolve(ref, options), fork, options);
  }

  /** Creates a session for a routing key (isolated keys are unique by construction); `id` (a fresh UUID) lets a caller put the session's own id in its key. */
  async create(input: { key: string; participants?: string[]; id?: string }, options: WriteOptions = {}): Promise<Session> {
    return this.router.create(input.key, input.participants ?? [], options, input.id === undefined ? undefined : assertValidId(input.id));
  }

  /** The session an inbound message belongs to, created when needed; a key never has two live sessions. */
  async route(inbound: Inbound, options: WriteOptions = {}): Promise<Session> {
    return (await this.router.route(inbound, options)).session;
  }

  /**
   * The live session of a routing key (`dm:…` or `group:…`), created when
   * there is none, as the first message for that key would: a service that
   * names sessions by key uses this. Isolated keys are refused: each names
   * one session made on purpose, never found by key.
   */
  async sessionForKey(key: string, options: WriteOptions & { participants?: readonly string[] } = {}): Promise<Session> {
    if (parseKey(key).kind === "isolated" && taskKeyKind(key) === null) throw new OpenclawError("INVALID_KEY", `isolated key ${JSON.stringify(key)} names a one-off session: use its id`);
    return (await this.router.routeKey(key, options.participants ?? [], options)).session;
  }

  /**
   * The live session of any key, isolated keys included, created when there
   * is none, atomically across every process on the store: for a caller
   * that names a one-off session deterministically (a request's idempotency
   * key), so two attempts racing on two gateways share one session.
   */
  async claimKey(key: string, options: WriteOptions = {}): Promise<Session> {
    return (await this.router.routeKey(key, [], options)).session;
  }

  /**
   * Runs `fn` as session `id`'s turn: holding its lease in the store, so no
   * other turn of that session runs meanwhile in any process on the store
   * (storage.turnLeaseMs, renewed while `fn` runs). `fn`'s signal fires
   * when the lease is lost; `options.signal` abandons the wait (ABORTED).
   */
  async withTurn<T>(id: string, fn: (lost: AbortSignal) => Promise<T>, options: { holder: string; signal: AbortSignal }): Promise<T> {
    this.#turns ??= new TurnKeeper(this.ctx.store.turnLeases, { ttlMs: this.ctx.config.storage.turnLeaseMs });
    return this.#turns.run(id, fn, options);
  }

  /**
   * The write verb: records one message, in an existing session (`{ ref }`,
   * optionally `via` the inbound address it came from) or wherever an
   * inbound message routes (`{ inbound }`, creating the session when needed),
   * and says what happened: the stored message, whether it was a retry of
   * one already stored, whether routing started a new session, and any
   * compaction error (the message is stored regardless). It refuses
   * expired or archived sessions and oversized messages before anything is
   * routed or created, counts tokens once, folds old turns when the history
   * outgrows its limits, and records messages through one reference (or
   * one routing key) in call order. A user message that is an in-chat
   * command (`sessions.commands`) is answered, not stored, unless
   * `commands: false`.
   */
  async record(target: AppendTarget, message: NewMessage, options: RecordOptions = {}): Promise<AppendResult> {
    const command = options.commands === false ? null : await this.chatCommands().commandOf(target, message, options);
    return command === null ? this.appender.append(target, message, options) : this.chatCommands().run(target, message, command, options);
  }

  /** Routes an inbound user message and records it: the everyday path of a gateway. */
  async receive(inbound: Inbound, content: string, options: AppendOptions & { pinned?: boolean } = {}): Promise<Session> {
    const message: NewMessage = {
      role: "user",
      content,
      sender: inbound.senderId,
      ...(options.pinned ? { pinned: true } : {}),
      ...(options.clientMessageId !== undefined ? { clientMessageId: options.clientMessageId } : {}),
    };
    // Sugar for record: an everyday message, so a leading "/" is text here, not an in-chat command.
    return (await this.record({ inbound }, message, { ...options, commands: false })).session;
  }

  /** Checks a message as an append would (role, size, tool links, client id) without recording it; throws the same error. */
  checkMessage(message: NewMessage): void {
    validateMessage(message, this.ctx.config.sessions.maxMessageBytes);
  }

  /** Removes one message (active or pruned) by id; returns it, or undefined when the session has no such message. */
  async deleteMessage(ref: string, messageId: string, options: WriteOptions = {}): Promise<Message | undefined> {
    return deleteMessage(this.ctx, this.writer, await this.resolve(ref, options), messageId, options);
  }

  /** Removes messages, summary and pruned history in one commit; keeps id, key, preferences, tools and system prompts. */
  async clear(ref: string, options: WriteOptions = {}): Promise<ClearReport> {
    return clearSession(this.ctx, this.writer, await this.resolve(ref), options);
  }

  /** Deletes a session and all its stored data; returns its id. */
  async delete(ref: string, options: WriteOptions = {}): Promise<string> {
    const id = await this.resolve(ref);
    if (!(await this.writer.remove(id, options))) throw notFound(ref);
    return id;
  }

  /**
   * The sessions a delete would remove: the given references (every one
   * checked first, so one typo deletes nothing), or in bulk by effective
   * status, optionally idle for longer than `olderThanMs`.
   */
  async planDelete(selection: { refs: readonly string[] } | { status: "expired" | "archived"; olderThanMs?: number }): Promise<SessionRef[]> {
    if ("refs" in selection) return (await loadAll(this.ctx, this.writer, await this.resolveAll(selection.refs))).map(refOf);
    return selectForDelete(this.ctx, selection.status, selection.olderThanMs);
  }

  /** Deletes planned sessions; returns those deleted (one deleted meanwhile by someone else is skipped). */
  async deleteSessions(targets: readonly SessionRef[], options: WriteOptions & { onProgress?: (done: number, total: number) => void } = {}): Promise<SessionRef[]> {
    return deleteAll(this.writer, targets, options);
  }

  /** Archives a session (read-only, out of the default list). */
  async archive(ref: string, options: WriteOptions = {}): Promise<Session> {
    return (await setArchived(this.ctx, this.writer, [await this.resolve(ref)], "archive", options))[0] as Session;
  }

  /** Brings an archived session back. */
  async unarchive(ref: string, options: WriteOptions = {}): Promise<Session> {
    return (await setArchived(this.ctx, this.writer, [await this.resolve(ref)], "unarchive", options))[0] as Session;
  }

  /** Archives or unarchives several sessions, all or none: nothing changes if any is already in the target state. */
  async setArchived(refs: readonly string[], action: "archive" | "unarchive", options: WriteOptions = {}): Promise<Session[]> {
    return setArchived(this.ctx, this.writer, await this.resolveAll(refs), action, options);
  }

  /** Edits preferences, tool permissions and the system prompt in one save; every input is checked first. */
  async edit(ref: string, changes: SessionEdit, options: WriteOptions = {}): Promise<Session> {
    return editSession(this.ctx, this.writer, await this.resolve(ref), changes, options);
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
    return structuredClone(this.ctx.config.sessions.tools[kind]);
  }

  /** Export document of the given references (each must exist), or of every session with `all`. */
  async exportSessions(refs: readonly string[] | "all", options: WriteOptions = {}): Promise<ExportEnvelope> {
    const ids = refs === "all" ? (await this.ctx.store.list({})).items.map((s) => s.id).reverse() : await this.resolveAll(refs);
    const { exportSessions } = await transferModule();
    return exportSessions(this.ctx, this.writer, ids, { ...options, requireAll: refs !== "all" });
  }

  /**
   * Restores an export document (or the sessions `refs` name in it); refuses
   * existing ids unless `overwrite` or `skipExisting`, and a live session whose
   * key has another live one unless `clashes` says otherwise; writes nothing
   * when refused.
   */
  async importSessions(envelope: ExportEnvelope, options: ImportOptions = {}): Promise<ImportReport> {
    const { importSessions } = await transferModule();
    return importSessions(this.ctx, this.writer, envelope, options);
  }

  /** Expires, archives, folds and tidies sessions (those with work to do, or the given references). */
  async compact(options: WriteOptions & { refs?: readonly string[]; dryRun?: boolean; onProgress?: (done: number, total: number) => void } = {}): Promise<CompactReport> {
    const ids = options.refs === undefined || options.refs.length === 0 ? undefined : await this.resolveAll(options.refs);
    const { refs: _refs, ...rest } = options;
    const { compactSessions } = await compactAllModule();
    return compactSessions(this.ctx, this.writer, await this.compaction(), { ...rest, ...(ids ? { ids } : {}) });
  }

  /**
   * Folds the oldest turns of one session into its summary now, even under the
   * limits; `keep` folds whole turns until about that many recent messages are
   * left (never fewer, the latest turn always stays); `focus` is an extra
   * instruction for a model-backed summarizer.
   */
  async foldNow(ref: string, options: WriteOptions & { focus?: string; keep?: number } = {}): Promise<FoldOutcome> {
    if (options.keep !== undefined && (!Number.isInteger(options.keep) || options.keep < 0)) {
      throw new OpenclawError("INVALID_ARGUMENT", `keep must be a whole number of messages, 0 or more (got ${String(options.keep)})`);
    }
    const session = await this.get(ref, options);
    return (await this.compaction()).fold(session, { ...options, force: true });
  }

  /** Resolves once no background compaction is running. */
  async idle(): Promise<void> {
    if (this.compactor !== undefined) await (await this.compactor).idle();
  }

  /**
   * Prepares what a long-running process's turns will need, so none of it
   * is paid for inside a request: the fold thread is started (a one-shot
   * process starts it only at its second fold) and resolves once it takes
   * folds. The gateway calls it once it listens. Never throws: where the
   * thread cannot start, folds run on the calling thread.
   */
  async warmUp(): Promise<void> {
    await (await this.compaction()).warmUp();
  }

  /** Store-wide status; verbose adds per-session usage and memory. */
  async status(options: WriteOptions & { verbose?: boolean } = {}): Promise<StatusReport> {
    throwIfAborted(options.signal);
    const { statusReport } = await statusModule();
    return statusReport(this.ctx, this.writer, this.location, options);
  }

  /** Tokens the sessions' model calls used, by channel, day or session, all time or over the last `sinceMs`. */
  async usage(options: UsageOptions = {}): Promise<UsageReport> {
    const { usageReport } = await import("./usage.js");
    return usageReport(this.ctx, this.writer, options);
  }

  /** Moves (or, when another keeps the key, archives) live DM sessions whose key no longer matches `sessions.dmScope` and the identity links; `dryRun` only plans. */
  async rescope(options: WriteOptions & { dryRun?: boolean } = {}): Promise<RescopeReport> {
    return (await import("./rescope.js")).rescope(this.ctx, this.writer, options);
  }

  /** Deletes what the retention rules (sessions.maintenance, or `policy`) select, oldest first, never a live session; `dryRun` only reports. */
  async prune(options: PruneOptions = {}): Promise<PruneReport> {
    const { pruneSessions } = await import("./retention.js");
    return pruneSessions(this.ctx, this.writer, options);
  }

  /** Stops background work (aborting a running summarizer), stops events and releases the store. Idempotent. */
  async close(): Promise<void> {
    this.#closed ??= (async () => {
      // Leases kept between turns go back first, so other processes' turns need not wait for them to expire.
      await this.#turns?.close();
      if (this.compactor !== undefined) await (await this.compactor).close();
      this.events.close();
      await this.ctx.store.close();
    })();
    return this.#closed;
  }
}
