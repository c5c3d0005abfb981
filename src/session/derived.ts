import type { Session } from "./types.js";

/** Tokens of what the model would see from cached counts: system prompts, summary and active messages. */
export function sessionTokens(session: Pick<Session, "systemPrompts" | "summary" | "messages">): number {
  let total = session.summary?.tokens ?? 0;
  for (const p of session.systemPrompts) total += p.tokens;
  for (const m of session.messages) total += m.tokens;
  return total;
}

/**
 * The document with its derived fields recomputed: the one place they are
 * set, called on every save, so `context.tokensInUse`, model and window never
 * drift from the content.
 */
export function withDerived(session: Session, model: { model: string; window: number }): Session {
  const tokensInUse = sessionTokens(session);
  const c = session.context;
  if (c.tokensInUse === tokensInUse && c.model === model.model && c.window === model.window) return session;
  return { ...session, context: { ...c, tokensInUse, model: model.model, window: model.window } };
}
