import { randomBytes } from "node:crypto";
import { uuidv7 } from "../../src/session/ids.js";
import { newSession } from "../../src/session/new.js";
import type { Message, Session, SessionKind } from "../../src/session/types.js";
import { applyAppend, type HeaderChange, type HeldLock, type SessionStore } from "../../src/store/store.js";

let clock = Date.parse("2025-01-01T00:00:00.000Z");

/** A fresh, valid, time-ordered session id (each call later than the previous one). */
export function testId(): string {
  clock += 1;
  return uuidv7(clock, randomBytes(10));
}

/** A plain user message whose content is `text`. */
export function testMessage(text: string, at = "2025-01-02T10:00:00.000Z", extra: Partial<Message> = {}): Message {
  return { id: testId(), role: "user", content: text, sender: "u1", createdAt: at, tokens: Math.ceil(text.length / 4), pinned: false, ...extra };
}

/** A new, unsaved session (revision 0) with optional overrides. */
export function testSession(overrides: Partial<Session> & { kind?: SessionKind } = {}): Session {
  const id = overrides.id ?? testId();
  const kind = overrides.kind ?? "dm";
  const channel = overrides.channel ?? "telegram";
  const base = newSession({ id, key: `${kind}:${channel}:${id.slice(-6)}`, kind, channel, now: new Date("2025-01-02T09:00:00.000Z") });
  return { ...base, ...overrides, id };
}

/** A session exercising every part of the schema: prompts, summary, pins, tool call and result, nested preferences. */
export function richSession(): Session {
  const s = testSession({ kind: "group", channel: "slack", participants: ["alice", "bob"] });
  const call = { id: "call_01", name: "web.search", arguments: JSON.stringify({ q: 'zod 4 "discriminated" unions', n: 3 }) };
  return {
    ...s,
    status: "active",
    key: "group:slack:C024BE91L",
    preferences: { language: "fr", verbosity: 2, quiet: false, nested: { list: [1, "two", null, { deep: true }] } },
    tools: { allow: ["web.*", "calc"], deny: ["web.post"] },
    systemPrompts: [{ id: testId(), content: "You are a careful assistant.\nAnswer briefly.", tokens: 9, createdAt: "2025-01-02T09:00:00.000Z" }],
    summary: { text: "Alice asked about order #4521 (https://example.com/o/4521).", tokens: 17, messageCount: 4, throughMessageId: "m-4", updatedAt: "2025-01-02T09:30:00.000Z", summarizer: "extractive" },
    messages: [
      testMessage("pin this: invoice due 2025-02-01 ✅ — «ünïcödé» 🚀", "2025-01-02T09:40:00.000Z", { pinned: true, sender: "alice" }),
      { ...testMessage("", "2025-01-02T09:41:00.000Z"), role: "assistant", sender: null, toolCalls: [call] },
      { ...testMessage('{"results":["a","b"]}', "2025-01-02T09:41:01.000Z"), role: "tool", sender: null, toolCallId: call.id },
      testMessage("thanks", "2025-01-02T09:42:00.000+02:00", { sender: "bob" }),
    ],
    prunedCount: 4,
    lastActivityAt: "2025-01-02T09:42:00.000Z",
    context: { model: "gpt-4o-mini", window: 128000, tokensInUse: 60, compactions: 1, lastCompactedAt: "2025-01-02T09:30:00.000Z", lastSummarizerError: null, lastSummarizerErrorAt: null },
  };
}

/** The header fields of `session` an append may change. */
export function headerOf(session: Session): HeaderChange {
  const { status, updatedAt, lastActivityAt, expiredAt, archivedAt, participants, context } = session;
  return { status, updatedAt, lastActivityAt, expiredAt, archivedAt, participants, context };
}

/**
 * Appends `messages` to the stored `doc` through the store's delta append,
 * with `changes` to its header; returns the document as a caller builds it
 * from `doc` and the delta (what the store must now hold).
 */
export async function appendTo(store: SessionStore, doc: Session, messages: readonly Message[], changes: Partial<HeaderChange> = {}, held?: HeldLock): Promise<Session> {
  const header = { ...headerOf(doc), ...changes };
  const { revision } = await store.appendMessages(doc.id, doc.revision, header, messages, held);
  return applyAppend(doc, header, messages, revision);
}
