import type { Message } from "../session/types.js";
import type { Turn, Unit } from "./_turns.js";
import { estimateTokens, MESSAGE_OVERHEAD_TOKENS, type TokenCounter } from "./tokens.js";

/** How tool results older than the recent turns are sent (`context.toolResults`). */
export interface ToolResultPolicy {
  /** The tool results of this many most recent turns are sent whole. */
  keepTurns: number;
  /** An older result longer than this many characters is sent as its head and tail, this long together; 0 cuts none. */
  softTrimChars: number;
  /** Older results are replaced by a short placeholder instead of being cut. */
  hardClear: boolean;
}

/** One tool result sent shorter than it is stored. */
export interface TrimmedResult {
  messageId: string;
  /** "trimmed": head and tail kept; "cleared": a placeholder in its place. */
  mode: "trimmed" | "cleared";
  /** Characters and tokens as stored. */
  storedChars: number;
  storedTokens: number;
  /** Characters and tokens as sent. */
  sentChars: number;
  sentTokens: number;
}

/** The text sent in place of a cleared result; says where the whole one is. */
export function clearedPlaceholder(chars: number): string {
  return `[tool result of ${chars} characters cleared from the context; the session's stored history keeps it]`;
}

function trimNote(left: number): string {
  return `\n[… ${left} characters of this tool result left out of the context; the session's stored history keeps them …]\n`;
}

// A cut between the two halves of a surrogate pair would send half a character.
function cutAt(text: string, at: number): number {
  const c = text.charCodeAt(at - 1);
  return c >= 0xd800 && c <= 0xdbff ? at - 1 : at;
}

/** The head-and-tail form of `text`, about `chars` characters of it kept; unchanged when not longer than that. */
export function softTrim(text: string, chars: number): string {
  if (text.length <= chars) return text;
  const head = cutAt(text, Math.ceil(chars / 2));
  const tailStart = text.length - (chars - head);
  const tail = cutAt(text, tailStart) === tailStart ? tailStart : tailStart + 1;
  return `${text.slice(0, head)}${trimNote(tail - head)}${text.slice(tail)}`;
}

// Sent forms are remembered per stored message (cached documents share their
// frozen messages across builds), so a turn does not recount every old result.
const memo = new WeakMap<Message, { key: string; sent: Message; trimmed: TrimmedResult }>();

function sentForm(m: Message, policy: ToolResultPolicy, counter: Pick<TokenCounter, "countMessage"> | undefined): { sent: Message; trimmed: TrimmedResult } | undefined {
  const key = `${policy.softTrimChars}\u0000${policy.hardClear}\u0000${counter === undefined ? "" : "c"}`;
  const known = memo.get(m);
  if (known !== undefined && known.key === key) return known;
  const content = policy.hardClear ? clearedPlaceholder(m.content.length) : policy.softTrimChars > 0 ? softTrim(m.content, policy.softTrimChars) : m.content;
  if (content.length >= m.content.length) return undefined;
  const counted = counter?.countMessage({ role: "tool", content, toolCallId: m.toolCallId }) ?? estimateTokens(content) + MESSAGE_OVERHEAD_TOKENS;
  // Never dearer than the stored count: the stored one is what the budget was planned with.
  const tokens = Math.min(counted, m.tokens);
  const sent: Message = { ...m, content, tokens };
  const trimmed: TrimmedResult = { messageId: m.id, mode: policy.hardClear ? "cleared" : "trimmed", storedChars: m.content.length, storedTokens: m.tokens, sentChars: content.length, sentTokens: tokens };
  memo.set(m, { key, sent, trimmed });
  return { sent, trimmed };
}

function replaceIn(list: Message[], from: Message, to: Message): Message[] {
  return list.map((x) => (x === from ? to : x));
}

/**
 * Puts the sent form of each tool result older than the last
 * `policy.keepTurns` turns into its unit (the units are this build's own;
 * the stored messages are untouched), so the budget is planned with what is
 * really sent. Pinned results are sent whole. Returns what was shortened.
 */
export function trimOldToolResults(turns: readonly Turn[], policy: ToolResultPolicy, counter?: Pick<TokenCounter, "countMessage">): TrimmedResult[] {
  if (policy.softTrimChars <= 0 && !policy.hardClear) return [];
  const out: TrimmedResult[] = [];
  const old = turns.length - Math.max(0, policy.keepTurns);
  for (let t = 0; t < old; t++) {
    for (const unit of turns[t]?.units ?? []) trimUnit(unit, policy, counter, out);
  }
  return out;
}

function trimUnit(unit: Unit, policy: ToolResultPolicy, counter: Pick<TokenCounter, "countMessage"> | undefined, out: TrimmedResult[]): void {
  for (const m of unit.messages) {
    if (m.role !== "tool" || m.pinned) continue;
    const form = sentForm(m, policy, counter);
    if (form === undefined) continue;
    unit.messages = replaceIn(unit.messages, m, form.sent);
    unit.sendable = replaceIn(unit.sendable, m, form.sent);
    unit.tokens -= m.tokens - form.sent.tokens;
    out.push(form.trimmed);
  }
}
