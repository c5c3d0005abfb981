import type { Inbound } from "../routing/route.js";
import { routeTarget } from "../routing/route.js";
import { activityOf, assertWritable } from "../session/lifecycle.js";
import { evaluateReset } from "../session/reset.js";
import { OpenclawError } from "../errors.js";
import { assertValidId } from "../session/ids.js";
import type { Message, Session } from "../session/types.js";
import { addUsage, checkReplyUsage, measureCall, type ReplyUsage } from "../session/usage.js";
import { KeyedMutex } from "../store/_mutex.js";
import { counterFor, messageTokenLimit } from "../context/budget.js";
import type { ManagerContext, SessionWriter, WriteOptions } from "./_context.js";
import { buildMessage, validateMessage, withAppendFields, type NewMessage } from "./_message.js";
import { mergeOrigin, originOf, participantOf, sharedByAll, type Router, type Started } from "./routing.js";
import { parseKey } from "../session/keys.js";

/**
 * Where an append goes: an existing session by reference, or wherever an
 * inbound message routes. A reference may name the inbound address the
 * message came from (`via`), so the session's origin and participants follow
 * it as if it had been routed.
 */
export type AppendTarget = { ref: string; via?: Inbound } | { inbound: Inbound };

/** What an append did. */
export interface AppendResult {
  /** The session after the append (and after its fold, when the append waited for one: `compaction.mode: "inline"` or `waitForFold`). */
  session: Session;
  /** The stored message (for a duplicate, the one stored the first time). */
  message: Message;
  /** True when a message with the same client message id was already stored: nothing was written. */
  duplicate: boolean;
  /** True when routing started a new session for this message. */
  created: boolean;
  /** When routing started a new session: why, and whether the previous one's settings were carried over. */
  started: Started | null;
  /** Set when compaction after the append failed; the message is stored all the same. */
  compactionError: string | null;
  /**
   * Set when the message was an in-chat command (`sessions.commands`): it was
   * answered here, not stored; `message` is the command as received and
   * `session` the session it leaves current (a fresh one after /new).
   */
  command?: CommandOutcome;
}

/** What an in-chat command did, and the answer to give the user. */
export interface CommandOutcome {
  name: "new" | "reset" | "compact" | "status";
  /** The answer, as the assistant would give it. */
  reply: string;
  /** `/new <model>`: the model the new session talks to. */
  model?: string;
  /** `/new`, `/reset`: the session that ended (null when the key had none live). */
  previousId?: string | null;
  /** `/compact`: messages folded into the summary. */
  folded?: number;
}

/** Options of one append: a caller that must name the message before it exists (a streamed reply) gives its id. */
export interface RecordOptions extends WriteOptions {
  /** The new message's id (a fresh UUID the caller made); default: one made here. */
  messageId?: string;
  /** For an assistant reply: the tokens its model call used (missing counts are estimated and marked so); added to the session's totals in the same write. */
  usage?: ReplyUsage;
  /** False records a user message that looks like an in-chat command as an ordinary message (default true: `sessions.commands` applies). */
  commands?: boolean;
  /** True waits for the fold this append makes due and reports its outcome, whatever `sessions.compaction.mode` says (a command-line call that ends right after). */
  waitForFold?: boolean;
}

/** Runs after a saved append; never throws (failures are recorded on the session). */
export type AfterAppend = (session: Session, options: WriteOptions & { waitForFold?: boolean }) => Promise<{ session: Session; error: string | null }>;

/**
 * Records messages. Appends through one reference (or one routing key) are
 * recorded in call order, whatever each waits for on the way: the queue is
 * entered synchronously at call time.
 */
export class Appender {
  private readonly order = new KeyedMutex();

  constructor(
    private readonly ctx: ManagerContext,
    private readonly writer: SessionWriter,
    private readonly router: Router,
    private readonly resolve: (ref: string, options: WriteOptions) => Promise<string>,
    private readonly after: AfterAppend,
  ) {}

  /** Checks, routes or resolves, and records one message; then compacts as configured. */
  async append(target: AppendTarget, message: NewMessage, options: RecordOptions = {}): Promise<AppendResult> {
    // Checked before anything is routed or created: a refused message leaves no trace.
    validateMessage(message, this.ctx.config.sessions.maxMessageBytes);
    if (options.messageId !== undefined) assertValidId(options.messageId);
    if (options.usage !== undefined) {
      if (message.role !== "assistant") throw new OpenclawError("INVALID_ARGUMENT", `usage belongs to an assistant reply, not a ${message.role} message; nothing was recorded`);
      checkReplyUsage(options.usage);
    }
    let queue: string | undefined;
    if ("ref" in target) queue = `ref:${target.ref}`;
    else {
      const t = routeTarget(target.inbound, this.ctx.config.sessions.identityLinks, () => this.ctx.newId(), this.ctx.config.sessions.dmScope);
      queue = t.alwaysNew ? undefined : `key:${t.key}`;
    }
    const record = () => this.record(target, message, options);
    const saved = queue === undefined ? await record() : await this.order.run(queue, record, options.signal);
    if (saved.duplicate) return { ...saved, compactionError: null };
    const after = await this.after(saved.session, options);
    return { ...saved, session: after.session, compactionError: after.error };
  }

  private async record(target: AppendTarget, input: NewMessage, options: RecordOptions): Promise<Omit<AppendResult, "compactionError">> {
    // Counted before routing, so a message refused for its size starts no session.
    const built = buildMessage(input, await counterFor(this.ctx.config), options.messageId ?? this.ctx.newId(), this.ctx.now());
    assertFitsContext(built, messageTokenLimit(this.ctx.config));
    let id: string;
    let created = false;
    let started: Started | null = null;
    if ("ref" in target) id = await this.resolve(target.ref, options);
    else {
      const routed = await this.router.route(target.inbound, options);
      id = routed.session.id;
      created = routed.created;
      started = routed.started ?? null;
    }
    let existing: Message | undefined;
    let stored = built;
    let folded = false;
    const session = await this.writer.mutate(
      id,
      async (s) => {
        const now = this.ctx.now();
        // Routing chose this session for this message while it was live; the time the write then
        // took (a slow store, a busy machine) must not turn that choice into an expiry error.
        // A session marked expired or archived meanwhile is still refused (0: no time-based expiry).
        assertWritable("ref" in target ? evaluateReset(s, this.ctx.resetPolicy(s), now) : s, 0, now);
        existing = built.clientId === undefined ? undefined : s.messages.find((m) => m.clientId === built.clientId);
        if (existing !== undefined) return undefined;
        // Stored, then folded out of the active history (by another writer's compaction, say) before this retry.
        folded = built.clientId !== undefined && s.context.foldedClientIds?.includes(built.clientId) === true;
        if (folded) return undefined;
        // Not CONFLICT: that code means "retry", and no retry can make this id free.
        if (options.messageId !== undefined && s.messages.some((m) => m.id === built.id)) throw new OpenclawError("ALREADY_EXISTS", `session ${id} already has a message ${built.id}`);
        if (built.toolCallId !== undefined) await this.assertCallKnown(s, built.toolCallId);
        const inbound = "inbound" in target ? target.inbound : target.via;
        // A linked identity takes part as its person; the message keeps the sender it came from.
        const who = inbound !== undefined && built.sender === inbound.senderId ? participantOf(inbound, this.ctx.config.sessions.identityLinks) : built.sender;
        const participants = who !== null && !s.participants.includes(who) ? [...s.participants, who] : s.participants;
        let context = s.context;
        const channel = inbound !== undefined && spansChannels(s.key) ? inbound.channel.toLowerCase() : undefined;
        const call = options.usage === undefined ? undefined : measureCall(options.usage, built.tokens, s.context.tokensInUse);
        if (call !== undefined) context = { ...context, usage: addUsage(context.usage, call.usage, call.contextTokens, now.toISOString()) };
        stored = withAppendFields(built, channel, call?.usage);
        const origin = inbound === undefined || (s.origin !== undefined && sharedByAll(s.key)) ? s.origin : mergeOrigin(s.origin, originOf(inbound, s.key));
        const session: Session = Object.assign({}, s, activityOf(s, now), { participants, context, messages: withMessage(s.messages, stored) });
        if (origin !== undefined) session.origin = origin;
        // An append may change only the header fields the store's append keeps (times, status, participants, context):
        // a new origin (a renamed group, another channel) is rare, and saved with the whole document.
        if (origin !== s.origin) return { session, reason: "appended" };
        return { session, reason: "appended", appended: [stored], base: s };
      },
      options,
    );
    if (existing !== undefined) return { session, message: existing, duplicate: true, created: false, started: null };
    if (folded) {
      const first = (await this.ctx.store.readPruned(id)).findLast((m) => m.clientId === built.clientId);
      return { session, message: first ?? built, duplicate: true, created: false, started: null };
    }
    return { session, message: stored, duplicate: false, created, started };
  }

  /**
   * A tool result must answer a call the session holds (active, or folded
   * into the pruned history): one with an unknown id would be dropped from
   * every context the model is sent, silently.
   */
  private async assertCallKnown(s: Session, callId: string): Promise<void> {
    const holds = (messages: readonly Message[]) => messages.some((m) => m.toolCalls?.some((c) => c.id === callId) === true);
    if (holds(s.messages)) return;
    if (s.prunedCount > 0 && holds(await this.ctx.store.readPruned(s.id))) return;
    throw new OpenclawError(
      "INVALID_ARGUMENT",
      `the tool result answers call ${JSON.stringify(callId)}, which session ${s.id} does not hold: record the assistant message with that tool call first; nothing was recorded`,
    );
  }
}

/** True for a DM key shared across channels (dm:main, dm:peer:…, dm:linked:…), whose messages say which channel each came on. */
function spansChannels(key: string): boolean {
  const parsed = parseKey(key);
  return parsed.kind === "dm" && (parsed.channel === "main" || parsed.channel === "peer" || parsed.channel === "linked");
}

/**
 * A message the context could not carry whole would leave the latest turn out
 * of what the model is sent, so it is refused here with the numbers to act on.
 */
function assertFitsContext(message: Message, limit: number): void {
  if (message.tokens <= limit) return;
  throw new OpenclawError(
    "MESSAGE_TOO_LARGE",
    `message is ${message.tokens} tokens, over the limit of ${limit} tokens (sessions.maxMessageTokens) so it could not reach the model whole; split it or raise the limit; nothing was recorded`,
  );
}

/**
 * The history with `message` added at the end, as a new array: Array.from
 * copies a frozen (cached) array at memory speed, where concat and spread
 * take a slow path that made an append cost its history's length.
 */
function withMessage(history: readonly Message[], message: Message): Message[] {
  const out = Array.from(history);
  out.push(message);
  return out;
}
