import type { Message, ToolPolicy } from "./types.js";

const cache = new Map<string, RegExp>();

function toRegExp(pattern: string): RegExp {
  let re = cache.get(pattern);
  if (re === undefined) {
    const body = pattern
      .split("*")
      .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
      .join(".*");
    re = new RegExp(`^${body}$`);
    cache.set(pattern, re);
  }
  return re;
}

/** True when `toolName` matches the pattern; `*` matches any run of characters (including dots). */
export function matchesPattern(pattern: string, toolName: string): boolean {
  return toRegExp(pattern).test(toolName);
}

/** Decision for one tool, with the pattern that decided it. */
export interface ToolDecision {
  allowed: boolean;
  /** The deny or allow pattern that decided; null when nothing matched (denied by default). */
  pattern: string | null;
}

/** Decides a tool: any matching deny pattern wins; otherwise a matching allow pattern; otherwise denied. */
export function decideTool(policy: ToolPolicy, toolName: string): ToolDecision {
  for (const p of policy.deny) if (matchesPattern(p, toolName)) return { allowed: false, pattern: p };
  for (const p of policy.allow) if (matchesPattern(p, toolName)) return { allowed: true, pattern: p };
  return { allowed: false, pattern: null };
}

/** True when the policy lets the session use `toolName` (deny wins over allow). */
export function isToolAllowed(policy: ToolPolicy, toolName: string): boolean {
  return decideTool(policy, toolName).allowed;
}

/** Adds and removes patterns; adding to one list removes the same pattern from the other so the last word counts. */
export function editPolicy(policy: ToolPolicy, edit: { allow?: readonly string[]; deny?: readonly string[]; removeAllow?: readonly string[]; removeDeny?: readonly string[] }): ToolPolicy {
  let allow = [...policy.allow];
  let deny = [...policy.deny];
  for (const p of edit.allow ?? []) {
    deny = deny.filter((d) => d !== p);
    if (!allow.includes(p)) allow.push(p);
  }
  for (const p of edit.deny ?? []) {
    allow = allow.filter((a) => a !== p);
    if (!deny.includes(p)) deny.push(p);
  }
  allow = allow.filter((a) => !(edit.removeAllow ?? []).includes(a));
  deny = deny.filter((d) => !(edit.removeDeny ?? []).includes(d));
  return { allow, deny };
}

/**
 * Tool calls in `messages` that no later tool message answers: waiting for
 * their result, or a result that was never recorded. Context building keeps
 * a call with its result, so these are worth telling an operator about.
 */
export function unansweredToolCalls(messages: readonly Message[]): Array<{ messageId: string; id: string; name: string }> {
  const answered = new Set(messages.flatMap((m) => (m.toolCallId === undefined ? [] : [m.toolCallId])));
  return messages.flatMap((m) => (m.toolCalls ?? []).filter((c) => !answered.has(c.id)).map((c) => ({ messageId: m.id, id: c.id, name: c.name })));
}
