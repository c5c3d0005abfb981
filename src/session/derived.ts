import type { Message, Session } from "./types.js";

/**
 * tokensInUse after an append, as a running total: the base's total plus the
 * new messages, when nothing else that counts changed (same system prompts,
 * summary, model and window); a full count otherwise. The base's total is
 * right because every save sets it (see withDerived).
 */
function appendedTokens(session: Session, base: Session, messages: readonly Message[], model: { model: string; window: number }): number {
  const c = base.context;
  if (session.systemPrompts !== base.systemPrompts || session.summary !== base.summary || c.model !== model.model || c.window !== model.window) return sessionTokens(session);
  let total = c.tokensInUse;
  for (const m of messages) total += m.tokens;
  return total;
}

/** Tokens of what the model would see from cached counts: system prompts, summary and active messages. */
export function sessionTokens(session: Pick<Session, "systemPrompts" | "summary" | "messages">): number {
  let total = session.summary?.tokens ?? 0;
  for (const p of session.systemPrompts) total += p.tokens;
  for (const m of session.messages) total += m.tokens;
  return total;
}

/**
 * The document with its derived fields recomputed (for an append, from the
 * base's running total: `appended` names the base and the new messages): the one place they are
 * set, called on every save, so `context.tokensInUse`, model and window never
 * drift from the content.
 */
export function withDerived(session: Session, model: { model: string; window: number }, appended?: { base: Session; messages: readonly Message[] }): Session {
  const tokensInUse = appended === undefined ? sessionTokens(session) : appendedTokens(session, appended.base, appended.messages, model);
  const c = session.context;
  if (c.tokensInUse === tokensInUse && c.model === model.model && c.window === model.window) return session;
  // Object.assign, not a spread: frozen spread copies each get a hidden class of their own in V8 (see withAppendFields).
  return Object.assign({}, session, { context: { ...c, tokensInUse, model: model.model, window: model.window } });
}
