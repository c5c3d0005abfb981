import { OpenclawError } from "../errors.js";
import type { Message, Session } from "../session/types.js";
import { groupTurns, groupUnits } from "./_turns.js";
import { summaryNote } from "./build.js";
import type { TokenCounter } from "./tokens.js";

/** Limits that trigger and size a compaction. */
export interface PruneLimits {
  /** Active messages allowed before folding starts. */
  maxHistoryLength: number;
  /** Tokens the context may use (window − reserve). */
  budgetTokens: number;
  /** Fraction of each limit to fold down to, so compaction does not run on every message. */
  lowWaterMark: number;
  /** Fold even under the limits: at least one turn, and down to the low-water marks. */
  force?: boolean;
  /** With `force`: fold the oldest whole turns until about this many of the most recent messages are left (never fewer; the low-water marks do not apply). */
  keep?: number;
  /** Expected size of the summary after folding (e.g. the summarizer's maxTokens); defaults to the current one. */
  summaryTokens?: number;
}

/**
 * How many client message ids of folded messages a session remembers, so an
 * append retried after a fold (by another writer, say) is still recognised.
 */
export const FOLDED_CLIENT_IDS = 64;

/** Why a compaction was planned. */
export type PruneReason = "length" | "tokens" | "forced";

/** What to fold into the summary and what stays active; both in history order and together exactly the history. */
export interface PrunePlan {
  fold: Message[];
  keep: Message[];
  reason: PruneReason;
  /** Turns at least partly folded (their pinned messages stay). */
  foldedTurns: number;
}

/**
 * Whether the history is over either limit, from the running token total
 * the store keeps (`context.tokensInUse`: system prompts, summary and
 * active messages): constant time, so an append that folds nothing never
 * walks its history. planPrune decides the same from a full count.
 */
export function foldDue(session: Pick<Session, "messages" | "context">, limits: Pick<PruneLimits, "maxHistoryLength" | "budgetTokens">): boolean {
  return session.messages.length > limits.maxHistoryLength || session.context.tokensInUse > limits.budgetTokens;
}

/**
 * Chooses the oldest whole turns to fold, or null when the history is within
 * both limits (and not forced) or nothing can be folded. Pinned messages and
 * the tool groups they belong to stay; a tool call never leaves without its
 * results; the most recent turn always stays.
 */
export function planPrune(session: Session, limits: PruneLimits): PrunePlan | null {
  const messages = session.messages;
  const systemTokens = session.systemPrompts.reduce((n, p) => n + p.tokens, 0);
  const summaryTokens = session.summary?.tokens ?? 0;
  let messageTokens = messages.reduce((n, m) => n + m.tokens, 0);
  const overLength = messages.length > limits.maxHistoryLength;
  const overTokens = systemTokens + summaryTokens + messageTokens > limits.budgetTokens;
  if (!overLength && !overTokens && limits.force !== true) return null;
  const reason: PruneReason = overLength ? "length" : overTokens ? "tokens" : "forced";

  const targetLength = Math.floor(limits.maxHistoryLength * limits.lowWaterMark);
  const targetTokens = Math.floor(limits.budgetTokens * limits.lowWaterMark);
  const fixedAfter = systemTokens + Math.max(summaryTokens, limits.summaryTokens ?? 0);
  const turns = groupTurns(groupUnits(messages));
  const folded = new Set<Message>();
  let remaining = messages.length;
  let foldedTurns = 0;
  for (const turn of turns.slice(0, -1)) {
    if (limits.keep !== undefined && limits.force === true) {
      const leaving = turn.units.filter((u) => !u.pinned).reduce((n, u) => n + u.messages.length, 0);
      if (remaining - leaving < limits.keep) break;
    } else {
      const low = remaining <= targetLength && fixedAfter + messageTokens <= targetTokens;
      if (low && !(limits.force === true && folded.size === 0)) break;
    }
    let any = false;
    for (const unit of turn.units) {
      if (unit.pinned) continue;
      for (const m of unit.messages) folded.add(m);
      remaining -= unit.messages.length;
      messageTokens -= unit.tokens;
      any = true;
    }
    if (any) foldedTurns++;
  }
  if (folded.size === 0) return null;
  return {
    fold: messages.filter((m) => folded.has(m)),
    keep: messages.filter((m) => !folded.has(m)),
    reason,
    foldedTurns,
  };
}

/**
 * The session after folding `plan.fold` into a new summary: kept messages,
 * rolled summary (tokens counted once here, cached from then on), counters.
 * What stays is the session's current messages minus `plan.fold` (`plan.keep`
 * is not consulted), so messages appended since planning stay. Throws
 * CONFLICT when a message to fold is no longer in the session (stale plan). The caller appends
 * `plan.fold` to the pruned-history log before saving.
 */
export function applyFold(
  session: Session,
  plan: { fold: readonly Message[]; keep?: readonly Message[] },
  summaryText: string,
  summarizerName: string,
  counter: Pick<TokenCounter, "countMessage">,
  now: Date,
  fallbackError?: string,
): Session {
  const foldIds = new Set(plan.fold.map((m) => m.id));
  const present = new Set(session.messages.map((m) => m.id));
  for (const id of foldIds) {
    if (!present.has(id)) {
      throw new OpenclawError("CONFLICT", `cannot fold message ${id}: it is no longer in session ${session.id}; plan the compaction again`, {
        userError: false,
      });
    }
  }
  const newest = plan.fold[plan.fold.length - 1];
  const at = now.toISOString();
  const foldedClientIds = [...(session.context.foldedClientIds ?? []), ...plan.fold.flatMap((m) => (m.clientId === undefined ? [] : [m.clientId]))].slice(-FOLDED_CLIENT_IDS);
  const messages = session.messages.filter((m) => !foldIds.has(m.id));
  const summary = {
    text: summaryText,
    tokens: counter.countMessage({ role: "system", content: summaryNote(summaryText) }),
    messageCount: (session.summary?.messageCount ?? 0) + foldIds.size,
    throughMessageId: newest?.id ?? session.summary?.throughMessageId ?? null,
    updatedAt: at,
    summarizer: summarizerName,
  };
  return {
    ...session,
    updatedAt: at,
    summary,
    messages,
    prunedCount: session.prunedCount + foldIds.size,
    context: {
      ...session.context,
      compactions: session.context.compactions + 1,
      lastCompactedAt: at,
      lastSummarizerError: fallbackError ?? null,
      lastSummarizerErrorAt: fallbackError === undefined ? null : at,
      ...(foldedClientIds.length > 0 ? { foldedClientIds } : {}),
    },
  };
}
