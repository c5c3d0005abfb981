import { counterFor } from "../context/budget.js";
import { OpenclawError } from "../errors.js";
import { assertNotArchived } from "../session/lifecycle.js";
import { editPolicy } from "../session/tools.js";
import type { Message, Session } from "../session/types.js";
import type { ManagerContext, SessionWriter, WriteOptions } from "./_context.js";
import { assertPrefKey, assertToolPattern } from "./_refs.js";
import type { ClearReport, SessionEdit } from "./types.js";

/** The context state without the folded messages' client ids (nothing folded is held any more). */
function withoutFoldedIds(context: Session["context"]): Session["context"] {
  const { foldedClientIds: _dropped, ...rest } = context;
  return rest;
}

/** Removes messages, summary and pruned history in one commit; keeps id, key, preferences, tools and system prompts. */
export async function clearSession(ctx: ManagerContext, writer: SessionWriter, id: string, options: WriteOptions = {}): Promise<ClearReport> {
  let report: ClearReport = { id, messages: 0, pruned: 0, summary: false };
  await writer.mutate(
    id,
    async (s) => {
      assertNotArchived(s);
      const pruned = await ctx.store.readPruned(id);
      report = { id, messages: s.messages.length, pruned: pruned.length, summary: s.summary !== null };
      const at = ctx.now().toISOString();
      const cleared: Session = {
        ...s,
        messages: [],
        summary: null,
        prunedCount: 0,
        updatedAt: at,
        context: { ...withoutFoldedIds(s.context), compactions: 0, lastCompactedAt: null, lastSummarizerError: null, lastSummarizerErrorAt: null },
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
  if (changes.label !== undefined) assertLabel(changes.label);
  const at = ctx.now().toISOString();
  let prompts: Session["systemPrompts"] | undefined;
  if (changes.system !== undefined) {
    const counter = await counterFor(ctx.config);
    prompts = changes.system === "" ? [] : [{ id: ctx.newId(), content: changes.system, tokens: counter.countMessage({ role: "system", content: changes.system }), createdAt: at }];
  }
  return writer.mutate(
    id,
    (s) => {
      assertNotArchived(s);
      const preferences = { ...s.preferences, ...structuredClone(set) };
      for (const k of unset) delete preferences[k];
      const { label: _old, ...rest } = s;
      const labelled = changes.label === undefined ? s : changes.label === "" ? rest : { ...s, label: changes.label };
      return {
        session: { ...labelled, preferences, tools: editPolicy(s.tools, tools), ...(prompts !== undefined ? { systemPrompts: prompts } : {}), updatedAt: at },
        reason: "edited",
      };
    },
    options,
  );
}

/** A label is shown in lists and terminals: text of 1-256 characters with no control characters ("" removes it). */
function assertLabel(label: unknown): void {
  if (typeof label !== "string" || label.length > 256 || /\p{Cc}/u.test(label) || (label !== "" && label.trim() === "")) {
    throw new OpenclawError("INVALID_ARGUMENT", `invalid label ${JSON.stringify(String(label).slice(0, 40))}: use 1-256 characters, no control characters ("" removes the label); nothing was changed`);
  }
}

/**
 * Removes one message by id, from the active history or the pruned-history
 * log, in one commit. Returns the removed message, or undefined when the
 * session holds no message with that id.
 */
export async function deleteMessage(ctx: ManagerContext, writer: SessionWriter, id: string, messageId: string, options: WriteOptions = {}): Promise<Message | undefined> {
  let removed: Message | undefined;
  await writer.mutate(
    id,
    async (s) => {
      assertNotArchived(s);
      removed = s.messages.find((m) => m.id === messageId);
      const at = ctx.now().toISOString();
      if (removed !== undefined) {
        return { session: { ...s, messages: s.messages.filter((m) => m.id !== messageId), updatedAt: at }, reason: "edited" };
      }
      const log = await ctx.store.readPruned(id);
      removed = log.find((m) => m.id === messageId);
      if (removed === undefined) return undefined;
      const kept = log.filter((m) => m.id !== messageId);
      return { session: { ...s, prunedCount: Math.max(0, s.prunedCount - 1), updatedAt: at }, reason: "edited", pruned: { replace: kept } };
    },
    options,
  );
  return removed;
}
