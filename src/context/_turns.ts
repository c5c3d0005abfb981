import type { Message, ToolCall } from "../session/types.js";

/**
 * Messages that must move together: a single message, or an assistant message
 * with tool calls plus every tool message answering one of them.
 */
export interface Unit {
  /** Index in the history of the unit's first message. */
  first: number;
  /** Oldest first; for a tool group the assistant message comes first. */
  messages: Message[];
  /** True when any member is pinned: the whole unit is then kept. */
  pinned: boolean;
  /** Sum of the members' cached token counts. */
  tokens: number;
  /** What may be sent to a model: unanswered calls and orphan results cannot be. */
  sendable: Message[];
  /** Calls of the assistant message that have at least one result. */
  answeredCalls: ToolCall[];
}

/** A user message and everything up to the next one; what precedes the first user message is a turn too. */
export interface Turn {
  units: Unit[];
}

/** Groups a history into units, ordered by their first message. */
export function groupUnits(messages: readonly Message[]): Unit[] {
  const ownerOfCall = new Map<string, Unit>();
  const units: Unit[] = [];
  // One pass, one unit per message that is not a tool result answering an earlier call (the common case costs one object).
  for (let index = 0; index < messages.length; index++) {
    const m = messages[index] as Message;
    const role = m.role;
    if (role === "tool") {
      const callId = m.toolCallId;
      const owner = callId === undefined ? undefined : ownerOfCall.get(callId);
      if (owner !== undefined) {
        owner.messages.push(m);
        continue;
      }
    }
    const calls = role === "assistant" ? m.toolCalls : undefined;
    const unit: Unit = { first: index, messages: [m], pinned: m.pinned, tokens: m.tokens, sendable: [], answeredCalls: [] };
    if (calls !== undefined) for (const call of calls) if (!ownerOfCall.has(call.id)) ownerOfCall.set(call.id, unit);
    units.push(unit);
  }
  for (const unit of units) finish(unit);
  return units;
}

function finish(unit: Unit): void {
  const head = unit.messages[0];
  if (head === undefined) return;
  if (unit.messages.length > 1) {
    unit.pinned = unit.messages.some((m) => m.pinned);
    unit.tokens = unit.messages.reduce((n, m) => n + m.tokens, 0);
  }
  if (head.role === "tool") return; // An orphan result: its call is gone, so it cannot be sent.
  const calls = head.role === "assistant" ? (head.toolCalls ?? []) : [];
  if (calls.length === 0) {
    unit.sendable = [head];
    return;
  }
  const answered = new Set(unit.messages.slice(1).map((m) => m.toolCallId));
  unit.answeredCalls = calls.filter((c) => answered.has(c.id));
  // An assistant message whose calls are all unanswered is only worth sending for its text.
  const headSendable = unit.answeredCalls.length > 0 || head.content.trim() !== "";
  unit.sendable = headSendable ? unit.messages.filter((m, i) => i === 0 || unit.answeredCalls.some((c) => c.id === m.toolCallId)) : [];
  // A result answering a call that is answered twice would repeat; keep the first per call.
  const seen = new Set<string>();
  unit.sendable = unit.sendable.filter((m) => {
    if (m.role !== "tool" || m.toolCallId === undefined) return true;
    if (seen.has(m.toolCallId)) return false;
    seen.add(m.toolCallId);
    return true;
  });
}

/** Splits units into turns at each unit that starts with a user message. */
export function groupTurns(units: readonly Unit[]): Turn[] {
  const turns: Turn[] = [];
  for (const unit of units) {
    const last = turns[turns.length - 1];
    if (last === undefined || unit.messages[0]?.role === "user") turns.push({ units: [unit] });
    else last.units.push(unit);
  }
  return turns;
}

/** Tokens a unit costs when sent: only its sendable members count. */
export function sendCost(unit: Unit): number {
  return unit.sendable.reduce((n, m) => n + m.tokens, 0);
}
