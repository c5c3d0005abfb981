import { OpenclawError } from "../errors.js";
import type { Message, MessageRole, Session } from "../session/types.js";
import { trimOldToolResults, type ToolResultPolicy, type TrimmedResult } from "./_tool-results.js";
import { groupTurns, groupUnits, sendCost, type Unit } from "./_turns.js";
import { clampToTokens, estimateTokens, senderLabel, type TokenCounter } from "./tokens.js";

export type { ToolResultPolicy, TrimmedResult } from "./_tool-results.js";

/** A tool call in the OpenAI chat shape. */
export interface ChatToolCall {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
}

/** A message in the OpenAI chat-completions shape. */
export interface ChatMessage {
  role: MessageRole;
  content: string;
  name?: string;
  tool_calls?: ChatToolCall[];
  tool_call_id?: string;
}

/** Options of {@link buildContext}. */
export interface BuildOptions {
  /** Lets an oversized summary be truncated to fit instead of left out; messages are never recounted. */
  counter?: Pick<TokenCounter, "countMessage">;
  /** A caller's system text for this call only (a client's system prompt): sent right after the session's system prompts, counted like them, never stored. */
  instructions?: string;
  /** Tool results older than the recent turns are sent cut or cleared (`context.toolResults`); absent: sent whole. */
  toolResults?: ToolResultPolicy;
}

/** What {@link buildContext} chose, with the token cost of each part (from cached counts). */
export interface BuiltContext {
  messages: ChatMessage[];
  tokens: number;
  parts: { system: number; summary: number; pinned: number; recent: number };
  /** Older turns (not the latest) with nothing in the recent part (their pinned messages may still be sent). */
  droppedTurns: number;
  /** True when nothing of the latest turn fitted: it alone is over the budget. */
  latestTurnDropped: boolean;
  /** Ids of the history messages sent, in order. */
  included: string[];
  /** How many of `included`, from the start, are the pinned part; the rest are the recent part. */
  pinnedIncluded: number;
  /** How the summary made it in. */
  summary: "none" | "full" | "truncated" | "dropped";
  /** Pinned messages left out for lack of room. */
  droppedPinned: number;
  /** True when not even the whole latest turn fitted. */
  latestTurnPartial: boolean;
  /** Tool results sent shorter than stored (only those sent), oldest first. */
  trimmed: TrimmedResult[];
  /** Tokens those results would have cost whole, less what they cost as sent. */
  trimmedTokensSaved: number;
}

/** Prefix of the system note that carries the rolling summary. */
export const SUMMARY_NOTE_PREFIX = "Summary of earlier conversation:\n";
const TRUNCATION_MARK = "\n[summary truncated to fit the context window]";
const OPENAI_NAME = /^[A-Za-z0-9_-]{1,64}$/;

// A summary that opens with its own header ("Summary of 40 earlier messages …"), or with a carry-over line then that header, needs no second one.
const OWN_HEADER = /^(?:Carried over from the previous session of this key \([^\n]*\n)?Summary of \d+ earlier messages?\b/;

/** True for the system note {@link summaryNote} makes, whichever header it opens with. */
export function isSummaryNote(content: string): boolean {
  return content.startsWith(SUMMARY_NOTE_PREFIX) || OWN_HEADER.test(content);
}

/** The system-note content for a summary; `Summary.tokens` is the count of exactly this. */
export function summaryNote(text: string): string {
  return OWN_HEADER.test(text) ? text : `${SUMMARY_NOTE_PREFIX}${text}`;
}

/**
 * Builds what the model sees, never over `budgetTokens`. Output order: system
 * prompts, the summary note, pinned messages older than the recent part, then
 * the most recent whole turns, all chronological. When room runs short, space
 * is granted in this order and the rest gives way:
 * 1. system prompts — mandatory; if they alone exceed the budget this throws
 *    CONFIG_INVALID, since no valid context exists;
 * 2. the latest turn — whole if it fits, else its opening message plus its
 *    newest tool groups/messages that fit (`latestTurnPartial`);
 * 3. pinned messages (with their tool partners) — the oldest are dropped first;
 * 4. the summary — whole, else truncated to fit (only with `options.counter`),
 *    else left out;
 * 5. earlier turns, newest first, whole turns only, stopping at the first that
 *    does not fit (none after a partial latest turn).
 * A tool call is sent only with its results and a result only with its call;
 * unanswered calls are stripped and orphan results left out.
 */
export function buildContext(session: Session, budgetTokens: number, options: BuildOptions = {}): BuiltContext {
  const instructions = options.instructions?.trim() ?? "";
  const instructionTokens = instructions === "" ? 0 : (options.counter?.countMessage({ role: "system", content: instructions }) ?? estimateTokens(instructions) + 4);
  const systemTokens = session.systemPrompts.reduce((n, p) => n + p.tokens, 0) + instructionTokens;
  if (instructionTokens > 0 && systemTokens > budgetTokens) {
    throw new OpenclawError(
      "MESSAGE_TOO_LARGE",
      `the request's system instructions need ${instructionTokens} tokens and the session's system prompts ${systemTokens - instructionTokens}, ` +
        `over the context budget of ${budgetTokens} tokens for this model: shorten the instructions`,
    );
  }
  if (systemTokens > budgetTokens) {
    throw new OpenclawError(
      "CONFIG_INVALID",
      `the system prompts of session ${session.id} need ${systemTokens} tokens but the context budget is ${budgetTokens}: ` + `raise sessions.contextWindow, lower sessions.reserveTokens, or shorten the system prompts`,
    );
  }
  let left = budgetTokens - systemTokens;
  const units = groupUnits(session.messages);
  const turns = groupTurns(units);
  const shortened = options.toolResults === undefined ? [] : trimOldToolResults(turns, options.toolResults, options.counter);
  const chosen = new Set<Unit>();
  const take = (u: Unit): void => {
    chosen.add(u);
    left -= sendCost(u);
  };

  // 2. The latest turn.
  const latest = turns[turns.length - 1];
  let latestTurnPartial = false;
  if (latest !== undefined) {
    const whole = latest.units.reduce((n, u) => n + sendCost(u), 0);
    if (whole <= left) latest.units.forEach(take);
    else {
      latestTurnPartial = true;
      const [opening, ...rest] = latest.units;
      if (opening !== undefined && sendCost(opening) <= left) take(opening);
      for (const u of rest.reverse()) {
        if (sendCost(u) > left) break;
        take(u);
      }
    }
  }

  // 3. Pinned units outside the latest turn, oldest dropped first.
  const pinned: Unit[] = [];
  for (let t = 0; t < turns.length - 1; t++) for (const u of turns[t]?.units ?? []) if (u.pinned && u.sendable.length > 0) pinned.push(u);
  let pinnedCost = pinned.reduce((n, u) => n + sendCost(u), 0);
  let droppedPinned = 0;
  while (pinnedCost > left) {
    const oldest = pinned.shift();
    if (oldest === undefined) break;
    pinnedCost -= sendCost(oldest);
    droppedPinned += oldest.messages.filter((m) => m.pinned).length;
  }
  pinned.forEach(take);

  // 4. The summary note.
  let summaryState: BuiltContext["summary"] = "none";
  let summaryContent = "";
  let summaryTokens = 0;
  const summary = session.summary;
  if (summary !== null && summary.text.trim() !== "") {
    if (summary.tokens <= left) {
      summaryState = "full";
      summaryContent = summaryNote(summary.text);
      summaryTokens = summary.tokens;
    } else {
      summaryState = "dropped";
      const counter = options.counter;
      if (counter !== undefined) {
        const cost = (t: string): number => counter.countMessage({ role: "system", content: summaryNote(t + TRUNCATION_MARK) });
        const cut = clampToTokens(summary.text, left, cost);
        if (cut.trim() !== "" && cost(cut) <= left) {
          summaryState = "truncated";
          summaryContent = summaryNote(cut + TRUNCATION_MARK);
          summaryTokens = cost(cut);
        }
      }
    }
    left -= summaryTokens;
  }

  // 5. Earlier turns, newest first; pinned units already paid for cost nothing more.
  // After a partial latest turn they would only open a gap before it.
  let firstRecentTurn = latest === undefined ? 0 : turns.length - 1;
  for (let t = latestTurnPartial ? -1 : turns.length - 2; t >= 0; t--) {
    const units = turns[t]?.units ?? [];
    const cost = units.reduce((n, u) => n + (chosen.has(u) ? 0 : sendCost(u)), 0);
    if (cost > left) break;
    for (const u of units) if (!chosen.has(u)) take(u);
    firstRecentTurn = t;
  }

  // Assemble in chronological order: units are in history order, and the recent part is every unit from its first turn's on.
  const recentFrom = turns[firstRecentTurn]?.units[0]?.first ?? Number.POSITIVE_INFINITY;
  const pinnedPart: Unit[] = [];
  const recentPart: Unit[] = [];
  for (const u of units) if (chosen.has(u)) (u.first < recentFrom ? pinnedPart : recentPart).push(u);
  const out: ChatMessage[] = session.systemPrompts.map((p) => ({ role: "system", content: p.content }));
  if (instructions !== "") out.push({ role: "system", content: instructions });
  if (summaryContent !== "") out.push({ role: "system", content: summaryContent });
  const included: string[] = [];
  const group = session.kind === "group";
  for (const part of [pinnedPart, recentPart]) {
    for (const u of part) {
      for (const m of u.sendable) {
        out.push(toChat(m, u, group));
        included.push(m.id);
      }
    }
  }
  const parts = {
    system: systemTokens,
    summary: summaryTokens,
    pinned: pinnedPart.reduce((n, u) => n + sendCost(u), 0),
    recent: recentPart.reduce((n, u) => n + sendCost(u), 0),
  };
  let recentTurns = 0;
  for (let t = firstRecentTurn; t < turns.length; t++) if (turns[t]?.units.some((u) => chosen.has(u))) recentTurns++;
  const latestTurnDropped = latest !== undefined && !latest.units.some((u) => chosen.has(u) && u.sendable.length > 0);
  const sent = shortened.length === 0 ? undefined : new Set(included);
  const trimmed = sent === undefined ? [] : shortened.filter((r) => sent.has(r.messageId));
  return {
    messages: out,
    tokens: parts.system + parts.summary + parts.pinned + parts.recent,
    parts,
    droppedTurns: turns.length - recentTurns - (latestTurnDropped ? 1 : 0),
    latestTurnDropped,
    included,
    pinnedIncluded: pinnedPart.reduce((n, u) => n + u.sendable.length, 0),
    summary: summaryState,
    droppedPinned,
    latestTurnPartial,
    trimmed,
    trimmedTokensSaved: trimmed.reduce((n, r) => n + r.storedTokens - r.sentTokens, 0),
  };
}

function toChat(m: Message, unit: Unit, group: boolean): ChatMessage {
  if (m.role === "user" && group && m.sender) {
    const chat: ChatMessage = { role: "user", content: `${senderLabel(m.sender)}${m.content}` };
    if (OPENAI_NAME.test(m.sender)) chat.name = m.sender;
    return chat;
  }
  if (m.role === "assistant" && (m.toolCalls?.length ?? 0) > 0) {
    const chat: ChatMessage = { role: "assistant", content: m.content };
    if (unit.answeredCalls.length > 0) {
      chat.tool_calls = unit.answeredCalls.map((c) => ({ id: c.id, type: "function", function: { name: c.name, arguments: c.arguments } }));
    }
    return chat;
  }
  if (m.role === "tool") return { role: "tool", content: m.content, tool_call_id: m.toolCallId ?? "" };
  return { role: m.role, content: m.content };
}

/** Token use of a session by part, for `show` and `status --verbose`; cached counts only. */
export interface ContextUsage {
  window: number;
  budget: number;
  tokens: { system: number; summary: number; pinned: number; messages: number; total: number };
  /** Share of the window in use, 0–100+, one decimal. */
  percentOfWindow: number;
  /** Share of the budget in use; above 100 means the next compaction is due. */
  percentOfBudget: number;
  messageCount: number;
  pinnedCount: number;
  /** Messages the summary covers, across all compactions. */
  summarizedCount: number;
  compactions: number;
  lastCompactedAt: string | null;
  lastSummarizerError: string | null;
}

/** Summarises where a session's tokens go against its window and budget. */
export function contextUsage(session: Session, window: number, budget: number): ContextUsage {
  const system = session.systemPrompts.reduce((n, p) => n + p.tokens, 0);
  const summary = session.summary?.tokens ?? 0;
  let pinned = 0;
  let messages = 0;
  for (const m of session.messages) {
    if (m.pinned) pinned += m.tokens;
    else messages += m.tokens;
  }
  const total = system + summary + pinned + messages;
  const percent = (n: number, of: number): number => (of > 0 ? Math.round((n / of) * 1000) / 10 : 0);
  return {
    window,
    budget,
    tokens: { system, summary, pinned, messages, total },
    percentOfWindow: percent(total, window),
    percentOfBudget: percent(total, budget),
    messageCount: session.messages.length,
    pinnedCount: session.messages.filter((m) => m.pinned).length,
    summarizedCount: session.summary?.messageCount ?? 0,
    compactions: session.context.compactions,
    lastCompactedAt: session.context.lastCompactedAt,
    lastSummarizerError: session.context.lastSummarizerError,
  };
}
