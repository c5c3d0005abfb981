// Checks shared by the adapter tests: what a model was sent, in one neutral shape.
import assert from "node:assert/strict";
import { loadTokenCounter } from "../../src/context/tokens.js";
import type { ExportEnvelope } from "../../src/session/export.js";

/** One message a model received. */
export interface Sent {
  role: string;
  content: string;
  callIds: string[];
  callName?: string;
  callArgs?: string;
  toolCallId?: string;
}

/** Config of a session that must prune: a tiny window and a short history. */
export const PRUNING_CONFIG = {
  sessions: {
    model: "gpt-4o",
    contextWindow: 1024,
    reserveTokens: 256,
    maxHistoryLength: 8,
    summarizer: { type: "extractive", maxTokens: 120 },
  },
} as const;

/** Words enough that a dozen turns overflow the window. */
export const FILLER =
  "please keep the booking details, the guest list, the dietary notes, the arrival time, the parking instructions, " +
  "the cake order and the name on the reservation in mind while you answer, and confirm each of them again";

/** The text of chat content: a string, or parts with text. */
export function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) return content.map((p: { text?: unknown }) => (typeof p?.text === "string" ? p.text : "")).join("");
  return "";
}

/** Tokens of a request, counted the way the session counts its messages. */
export async function requestTokens(messages: readonly Sent[]): Promise<number> {
  const counter = await loadTokenCounter("gpt-4o", 1);
  return messages.reduce(
    (n, m) =>
      n +
      counter.countMessage({
        role: m.role,
        content: m.content,
        ...(m.callIds.length > 0 ? { toolCalls: m.callIds.map((id) => ({ id, name: m.callName ?? "", arguments: m.callArgs ?? "{}" })) } : {}),
        ...(m.toolCallId !== undefined ? { toolCallId: m.toolCallId } : {}),
      }),
    0,
  );
}

/** Fails unless every call has its result after it and every result follows its call. */
export function assertPairsTogether(messages: readonly Sent[], where: string): void {
  const open = new Set<string>();
  const seen = new Set<string>();
  for (const m of messages) {
    for (const id of m.callIds) {
      open.add(id);
      seen.add(id);
    }
    if (m.toolCallId !== undefined) {
      assert.ok(seen.has(m.toolCallId), `${where}: the result of ${m.toolCallId} is sent without its call`);
      open.delete(m.toolCallId);
    }
  }
  assert.deepEqual([...open], [], `${where}: calls sent without their results`);
}

/** Every message of an exported session, folded ones first. */
export function exportedMessages(envelope: ExportEnvelope) {
  const s = envelope.sessions[0];
  assert.ok(s !== undefined, "the session is exported");
  return [...s.prunedHistory, ...s.messages];
}
