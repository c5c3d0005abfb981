import { counterFor } from "../context/budget.js";
import { OpenclawError } from "../errors.js";
import { editPolicy } from "../session/tools.js";
import type { Session } from "../session/types.js";
import type { ManagerContext, SessionWriter, WriteOptions } from "./_context.js";
import { assertPrefKey, assertToolPattern } from "./_refs.js";
import type { ClearReport, SessionEdit } from "./types.js";

/** Removes messages, summary and pruned history in one commit; keeps id, key, preferences, tools and system prompts. */
export async function clearSession(ctx: ManagerContext, writer: SessionWriter, id: string, options: WriteOptions = {}): Promise<ClearReport> {
  let report: ClearReport = { id, messages: 0, pruned: 0, summary: false };
  await writer.mutate(
    id,
    async (s) => {
      const pruned = await ctx.store.readPruned(id);
      report = { id, messages: s.messages.length, pruned: pruned.length, summary: s.summary !== null };
      const at = ctx.now().toISOString();
      const cleared: Session = {
        ...s,
        messages: [],
        summary: null,
        prunedCount: 0,
        updatedAt: at,
        context: { ...s.context, compactions: 0, lastCompactedAt: null, lastSummarizerError: null, lastSummarizerErrorAt: null },
      };
      return { session: cleared, reason: "cleared", pruned: { replace: [] } };
    },
    options,
  );
  return report;
}

/**
 * Edits preferences, tool permissions and the system prompt in one save.
 * Every input is checked before anything is written.
 */
export async function editSession(ctx: ManagerContext, writer: SessionWriter, id: string, changes: SessionEdit, options: WriteOptions = {}): Promise<Session> {
  const set = changes.set ?? {};
  const unset = changes.unset ?? [];
  for (const k of [...Object.keys(set), ...unset]) assertPrefKey(k);
  const tools = { allow: changes.allow ?? [], deny: changes.deny ?? [], removeAllow: changes.removeAllow ?? [], removeDeny: changes.removeDeny ?? [] };
  for (const p of [...tools.allow, ...tools.deny, ...tools.removeAllow, ...tools.removeDeny]) assertToolPattern(p);
  if (changes.system !== undefined && typeof changes.system !== "string") throw new OpenclawError("INVALID_ARGUMENT", "the system prompt must be text");
  const at = ctx.now().toISOString();
  let prompts: Session["systemPrompts"] | undefined;
  if (changes.system !== undefined) {
    const counter = await counterFor(ctx.config);
    prompts = changes.system === "" ? [] : [{ id: ctx.newId(), content: changes.system, tokens: counter.countMessage({ role: "system", content: changes.system }), createdAt: at }];
  }
  return writer.mutate(
    id,
    (s) => {
      const preferences = { ...s.preferences, ...structuredClone(set) };
      for (const k of unset) delete preferences[k];
      return {
        session: { ...s, preferences, tools: editPolicy(s.tools, tools), ...(prompts !== undefined ? { systemPrompts: prompts } : {}), updatedAt: at },
        reason: "edited",
      };
    },
    options,
  );
}
