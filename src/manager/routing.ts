import { linkedPerson, routeTarget, type Inbound } from "../routing/route.js";
import { normalizeKey, parentKey, taskKeyKind } from "../session/keys.js";
import { parseKey } from "../session/keys.js";
import { newSession } from "../session/new.js";
import type { Origin, Session } from "../session/types.js";
import { throwIfAborted } from "../store/_mutex.js";
import { effectiveStatus } from "../session/lifecycle.js";
import { resetAt } from "../session/reset.js";
import { counterFor, sessionBudget, summaryBudget } from "../context/budget.js";
import type { Config } from "../config/schema.js";
import type { Finalize, ManagerContext, SessionWriter, WriteOptions } from "./_context.js";

/** `sessions.carryOver` as its two switches: `true`/`false` set both. */
export function carryOverOf(value: Config["sessions"]["carryOver"]): { settings: boolean; summary: boolean } {
  return typeof value === "boolean" ? { settings: value, summary: value } : value;
}

/**
 * The origin an inbound message describes for the session of `key`: its
 * channel and account, and what names the conversation: the person's display
 * name for a DM, the subject for a group (a group member's own name would
 * change with every speaker). The DM everyone shares (`dm:main`) is named by
 * no one person.
 */
export function originOf(inbound: Inbound, key: string): Origin {
  const parsed = parseKey(key);
  const shared = sharedByAll(key);
  return {
    channel: inbound.channel.toLowerCase(),
    ...(inbound.accountId !== undefined ? { account: inbound.accountId } : {}),
    ...(parsed.kind === "dm" && !shared && inbound.displayName !== undefined ? { displayName: inbound.displayName } : {}),
    ...(parsed.kind === "group" && inbound.subject !== undefined ? { subject: inbound.subject } : {}),
  };
}

/** True for the DM session every sender shares, whose origin stays the first message's (it would change with every speaker). */
export function sharedByAll(key: string): boolean {
  const parsed = parseKey(key);
  return parsed.kind === "dm" && parsed.channel === "main";
}

/** A session's origin after an inbound message: what the message names replaces what was known, the rest stays; the same object when nothing changed. */
export function mergeOrigin(known: Origin | undefined, next: Origin): Origin {
  const merged: Origin = { ...known, ...next };
  const same = known !== undefined && Object.keys(merged).length === Object.keys(known).length && (Object.keys(merged) as Array<keyof Origin>).every((k) => merged[k] === known[k]);
  return same ? known : merged;
}

/** The participant an inbound sender counts as: the linked person when the identity is linked, else the sender id. */
export function participantOf(inbound: Inbound, links: Config["sessions"]["identityLinks"]): string {
  return linkedPerson(links, inbound.channel, inbound.senderId) ?? inbound.senderId;
}

/** Why routing started a new session. */
export interface Started {
  reason: "first message" | "previous session expired" | "previous session archived" | "previous session reset" | "reset by command";
  /** The key's previous session, when there was one. */
  previousId: string | null;
  /** True when its preferences, tool policy and system prompts were carried over. */
  carriedOver: boolean;
  /** For a thread's first session: the parent session whose preferences, tool policy and system prompts it took. */
  parentId?: string;
}

/** A routed session and whether routing created it. */
export interface Routed {
  session: Session;
  created: boolean;
  /** Set when `created`: why, and what came from the key's previous session. */
  started?: Started;
}

/** How many keys' live sessions a router remembers (the oldest remembered is forgotten first). */
export const LIVE_KEYS_REMEMBERED = 10_000;

/**
 * Finds or creates the session of a routing key, never two live ones per key.
 * It remembers each key's live session id, so a key's next message costs a
 * revision check of a cached document, not a search of the store and a read
 * of the whole document; what it remembers is only a hint, checked every time.
 */
export class Router {
  private readonly live = new Map<string, string>();

  constructor(
    private readonly ctx: ManagerContext,
    private readonly writer: SessionWriter,
    readonly finalize: Finalize,
  ) {}

  /** A new, unsaved session document for `key`, with the config's default tools for its kind. */
  draft(key: string, participants: readonly string[], id: string = this.ctx.newId()): Session {
    const parsed = parseKey(key);
    return newSession({
      id,
      key,
      kind: parsed.kind,
      channel: parsed.kind === "isolated" ? (taskKeyKind(key) ?? "isolated") : parsed.channel,
      participants: [...participants],
      tools: structuredClone(this.ctx.config.sessions.tools[parsed.kind]),
      now: this.ctx.now(),
    });
  }

  /** Creates a session for a routing key (isolated keys are unique by construction). */
  async create(key: string, participants: readonly string[], options: WriteOptions = {}, id?: string): Promise<Session> {
    return this.writer.create(this.draft(key, participants, id), options);
  }

  /**
   * The session an inbound message belongs to, created when needed. A key
   * whose newest session expired or was archived gets a fresh session; the
   * old one stays readable.
   */
  async route(inbound: Inbound, options: WriteOptions = {}): Promise<Routed> {
    const sessions = this.ctx.config.sessions;
    // A key made for one new session (isolated, or a job run with no id) carries that session's own id.
    let fresh: string | undefined;
    const target = routeTarget(inbound, sessions.identityLinks, () => (fresh ??= this.ctx.newId()), sessions.dmScope);
    const participants = [participantOf(inbound, sessions.identityLinks)];
    const origin = originOf(inbound, target.key);
    if (target.alwaysNew) return { session: await this.writer.create({ ...this.draft(target.key, participants, fresh), origin }, options), created: true };
    return this.routeKey(target.key, participants, options, origin);
  }

  /**
   * The live session of a (dm or group) routing key, created when there is
   * none. A new session for a key whose previous session expired or was
   * archived carries over that session's preferences, tool policy and system
   * prompts (`sessions.carryOver`), so what an operator set is not lost.
   */
  async routeKey(given: string, participants: readonly string[], options: WriteOptions = {}, origin?: Origin): Promise<Routed> {
    const key = normalizeKey(given);
    const known = await this.remembered(key, options);
    let reset: Started["reason"] | undefined;
    if (known !== undefined) {
      if (!this.resetDue(known)) return { session: known, created: false };
      await this.expire(known, "policy", options);
      reset = "previous session reset";
    }
    return this.fresh(key, participants, reset, options, origin);
  }

  /**
   * Ends a key's live session now (`/new`, `/reset`) and routes the key to a
   * fresh one, with carry-over as after an expiry. Two resets racing end one
   * session and share the next.
   */
  async reset(session: Session, options: WriteOptions = {}): Promise<Routed> {
    await this.expire(session, "now", options);
    return this.fresh(session.key, session.participants, "reset by command", options, session.origin);
  }

  /** The summary `next` starts with when carrying over `previous`'s, sized for the window of `next`'s model. */
  private async carried(previous: Session, next: Session): Promise<Session["summary"]> {
    const config = this.ctx.config;
    const [{ carriedSummary }, counter] = await Promise.all([import("../context/carry.js"), counterFor(config)]);
    return carriedSummary(previous, { maxTokens: summaryBudget(config, sessionBudget(config, next).window), counter, now: this.ctx.now() });
  }

  /** True when the session's reset policy says it is due now (daily, or an idle window shorter than the store's). */
  private resetDue(session: Session): boolean {
    if (session.status !== "active" && session.status !== "created") return false;
    const at = resetAt(session, this.ctx.resetPolicy(session));
    return at !== null && at.getTime() <= this.ctx.now().getTime();
  }

  /**
   * Marks a live session expired, as of when its policy made it due or now.
   * Checked again on the stored document: a session another writer ended
   * meanwhile is left as it is.
   */
  private async expire(session: Session, when: "policy" | "now", options: WriteOptions): Promise<void> {
    this.live.delete(session.key);
    await this.writer.mutate(
      session.id,
      (s) => {
        if (s.status !== "active" && s.status !== "created") return undefined;
        const now = this.ctx.now();
        const at = when === "now" ? now : resetAt(s, this.ctx.resetPolicy(s));
        if (at === null || at.getTime() > now.getTime()) return undefined;
        return { session: { ...s, status: "expired", expiredAt: at.toISOString(), updatedAt: now.toISOString() }, reason: "expired" };
      },
      options,
    );
  }

  private async fresh(key: string, participants: readonly string[], reset: Started["reason"] | undefined, options: WriteOptions, origin: Origin | undefined): Promise<Routed> {
    const store = this.ctx.store;
    let started: Started = { reason: "first message", previousId: null, carriedOver: false };
    const make = async (): Promise<Session> => {
      const draft: Session = { ...this.draft(key, participants), ...(origin !== undefined ? { origin } : {}) };
      const previousId = (await store.list({ key, limit: 1 })).items[0]?.id;
      const previous = previousId === undefined ? undefined : await this.writer.load(previousId, options);
      if (previous === undefined) {
        const parent = await this.parentOf(key, options);
        if (parent === undefined) return this.finalize(draft);
        // A thread's first session goes on as its parent conversation is set up.
        started = { reason: "first message", previousId: null, carriedOver: true, parentId: parent.id };
        return this.finalize({ ...draft, preferences: structuredClone(parent.preferences), tools: structuredClone(parent.tools), systemPrompts: structuredClone(parent.systemPrompts) });
      }
      const expired = previous.status !== "archived";
      const carry = carryOverOf(this.ctx.config.sessions.carryOver);
      let next = draft;
      if (carry.settings) next = { ...next, preferences: structuredClone(previous.preferences), tools: structuredClone(previous.tools), systemPrompts: structuredClone(previous.systemPrompts) };
      // The previous session's summary with its unfolded messages rolled in, marked, so neither the
      // model nor a reader takes it for this session's own history.
      const summary = carry.summary ? await this.carried(previous, next) : null;
      if (summary !== null) next = { ...next, summary };
      started = { reason: reset ?? (expired ? "previous session expired" : "previous session archived"), previousId: previous.id, carriedOver: carry.settings || summary !== null };
      return this.finalize(next);
    };
    let r = await this.claim(key, make, options);
    // The store finds sessions live by the idle expiry all policies share; a daily reset or a shorter idle window is applied here.
    for (let i = 0; i < 3 && !r.created && this.resetDue(r.session); i++) {
      await this.expire(r.session, "policy", options);
      reset = "previous session reset";
      r = await this.claim(key, make, options);
    }
    this.remember(key, r.session.id);
    return r.created ? { ...r, started } : r;
  }

  /** The newest session of a thread key's parent key (live or not: its settings are what the operator set); undefined for other keys. */
  private async parentOf(key: string, options: WriteOptions): Promise<Session | undefined> {
    const parent = parentKey(key);
    if (parent === null) return undefined;
    const id = (await this.ctx.store.list({ key: parent, limit: 1 })).items[0]?.id;
    return id === undefined ? undefined : this.writer.load(id, options);
  }

  /**
   * The key's remembered session when it is still its live one: loaded
   * through the writer's cache (checked against the stored revision), still
   * under this key, created or active, and not expired now. A session
   * archived, expired or deleted meanwhile, here or in another process, has
   * a new revision or none, so it fails the check and routing asks the store.
   */
  private async remembered(key: string, options: WriteOptions): Promise<Session | undefined> {
    const id = this.live.get(key);
    if (id === undefined) return undefined;
    const session = await this.writer.load(id, options);
    const status = session === undefined ? undefined : effectiveStatus(session, this.ctx.cutoff());
    if (session !== undefined && session.key === key && (status === "created" || status === "active")) return session;
    this.live.delete(key);
    return undefined;
  }

  private remember(key: string, id: string): void {
    this.live.delete(key);
    this.live.set(key, id);
    if (this.live.size > LIVE_KEYS_REMEMBERED) {
      const oldest = this.live.keys().next().value;
      if (oldest !== undefined) this.live.delete(oldest);
    }
  }

  /**
   * The live session of `key`, or, when it has none, the session `make`
   * builds, created under the same guarantee as routing: a key never has two
   * live sessions, whatever other writers do meanwhile.
   */
  async claim(key: string, make: () => Promise<Session>, options: WriteOptions = {}): Promise<Routed> {
    throwIfAborted(options.signal);
    const r = await this.ctx.store.findOrCreateLive(key, this.ctx.cutoff(), make);
    return r.created ? { session: this.writer.adopt(r.session, "created"), created: true } : { session: r.session, created: false };
  }
}
