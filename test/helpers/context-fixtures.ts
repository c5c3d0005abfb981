import { newSession } from "../../src/session/new.js";
import type { Message, Session, SessionKind, ToolCall } from "../../src/session/types.js";

/** Base instant of every fixture; message i is `i` minutes later. */
export const T0 = new Date("2026-02-01T09:00:00.000Z");

/** Deterministic PRNG (mulberry32) so property tests replay exactly from a seed. */
export function prng(seed: number): { next(): number; int(min: number, max: number): number; pick<T>(items: readonly T[]): T; chance(p: number): boolean } {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    pick: (items) => {
      const item = items[Math.floor(next() * items.length)];
      if (item === undefined) throw new Error("pick from empty list");
      return item;
    },
    chance: (p) => next() < p,
  };
}

/** A message with sensible defaults; `tokens` defaults to a rough size so no tokenizer is needed. */
export function msg(index: number, fields: Partial<Message> & Pick<Message, "role">): Message {
  const content = fields.content ?? `message ${index}`;
  return {
    id: fields.id ?? `m${String(index).padStart(4, "0")}`,
    role: fields.role,
    content,
    sender: fields.sender ?? (fields.role === "user" ? "alice" : null),
    createdAt: fields.createdAt ?? new Date(T0.getTime() + index * 60_000).toISOString(),
    tokens: fields.tokens ?? 4 + Math.ceil(content.length / 4),
    pinned: fields.pinned ?? false,
    ...(fields.toolCalls !== undefined ? { toolCalls: fields.toolCalls } : {}),
    ...(fields.toolCallId !== undefined ? { toolCallId: fields.toolCallId } : {}),
  };
}

/** A tool call. */
export function call(id: string, name = "lookup", args = "{}"): ToolCall {
  return { id, name, arguments: args };
}

/** An empty session with one system prompt. */
export function session(kind: SessionKind = "dm", systemPrompt = "You are a helpful assistant."): Session {
  const s = newSession({ id: "0193b2c4-5d6e-7f80-9a1b-2c3d4e5f6a7b", key: `${kind}:test:1`, kind, channel: "test", now: T0 });
  s.status = "active";
  s.systemPrompts = [{ id: "sp1", content: systemPrompt, tokens: 4 + Math.ceil(systemPrompt.length / 4), createdAt: T0.toISOString() }];
  return s;
}

/** Tool messages whose call is missing from `messages`, or calls with no result (ids). */
export function orphans(messages: readonly Message[]): { results: string[]; calls: string[] } {
  const callIds = new Set(messages.flatMap((m) => (m.toolCalls ?? []).map((c) => c.id)));
  const resultIds = new Set(messages.filter((m) => m.role === "tool").map((m) => m.toolCallId));
  return {
    results: messages.filter((m) => m.role === "tool" && (m.toolCallId === undefined || !callIds.has(m.toolCallId))).map((m) => m.id),
    calls: [...callIds].filter((id) => !resultIds.has(id)),
  };
}

/**
 * Random history: turns of a user message, sometimes tool rounds (one
 * assistant call message answered by 1–3 tool messages), then a reply; some
 * messages pinned, sizes varied.
 */
export function randomHistory(r: ReturnType<typeof prng>, turns: number, opts: { pinChance?: number; maxTokens?: number } = {}): Message[] {
  const out: Message[] = [];
  const size = (): number => r.int(5, opts.maxTokens ?? 400);
  const pin = (): boolean => r.chance(opts.pinChance ?? 0.05);
  let i = 0;
  for (let t = 0; t < turns; t++) {
    out.push(msg(i++, { role: "user", sender: r.pick(["alice", "bob", "carol"]), tokens: size(), pinned: pin() }));
    const rounds = r.chance(0.4) ? r.int(1, 2) : 0;
    for (let k = 0; k < rounds; k++) {
      const n = r.int(1, 3);
      const calls = Array.from({ length: n }, (_, j) => call(`call_${t}_${k}_${j}`));
      out.push(msg(i++, { role: "assistant", content: "", toolCalls: calls, tokens: size(), pinned: pin() }));
      for (const c of calls) out.push(msg(i++, { role: "tool", content: `result of ${c.id}`, toolCallId: c.id, tokens: size(), pinned: pin() }));
    }
    if (r.chance(0.9)) out.push(msg(i++, { role: "assistant", tokens: size(), pinned: pin() }));
  }
  return out;
}
