import { counterFor } from "./_compact.js";
import type { ClearReport, SessionEdit } from "./_manager-types.js";
import { assertPrefKey, assertToolPattern, notFound } from "./_refs.js";
import { OpenclawError } from "./errors.js";
import type { SessionManager } from "./manager.js";
import { editPolicy } from "./session/tools.js";
import type { Session } from "./session/types.js";

/** Removes messages, summary and pruned history; keeps id, key, preferences, tools and system prompts. */
export async function clearSession(manager: SessionManager, ref: string): Promise<ClearReport> {
  const id = await manager.resolve(ref);
  const store = manager.store;
  let report: ClearReport = { id, messages: 0, pruned: 0, summary: false };
  await store.withLock(id, async () => {
    const loaded = await store.get(id);
    if (loaded === undefined) throw notFound(ref);
    const s = loaded.session;
    const pruned = await store.readPruned(id);
    report = { id, messages: s.messages.length, pruned: pruned.length, summary: s.summary !== null };
    const at = manager.now().toISOString();
    const cleared: Session = {
      ...s,
      messages: [],
      summary: null,
      prunedCount: 0,
      updatedAt: at,
      context: { ...s.context, tokensInUse: 0, compactions: 0, lastCompactedAt: null, lastSummarizerError: null },
    };
    // Save the emptied document first: if the log removal then fails, the
    // leftover log is still exported rather than silently lost.
    await store.put(cleared, s.revision);
    await store.replacePruned(id, []);
  });
  return report;
}

/**
 * Edits preferences, tool permissions and the system prompt in one locked
 * save. Every input is checked before anything is written.
 */
export async function editSession(manager: SessionManager, ref: string, changes: SessionEdit): Promise<Session> {
  const set = changes.set ?? {};
  const unset = changes.unset ?? [];
  for (const k of [...Object.keys(set), ...unset]) assertPrefKey(k);
  const tools = { allow: changes.allow ?? [], deny: changes.deny ?? [], removeAllow: changes.removeAllow ?? [], removeDeny: changes.removeDeny ?? [] };
  for (const p of [...tools.allow, ...tools.deny, ...tools.removeAllow, ...tools.removeDeny]) assertToolPattern(p);
  if (changes.system !== undefined && typeof changes.system !== "string") throw new OpenclawError("INVALID_ARGUMENT", "the system prompt must be text");
  const id = await manager.resolve(ref);
  const at = manager.now().toISOString();
  let prompts: Session["systemPrompts"] | undefined;
  if (changes.system !== undefined) {
    const counter = await counterFor(manager.config);
    prompts = changes.system === "" ? [] : [{ id: manager.newId(), content: changes.system, tokens: counter.countMessage({ role: "system", content: changes.system }), createdAt: at }];
  }
  return manager.update(id, (s) => {
    const preferences = { ...s.preferences, ...structuredClone(set) };
    for (const k of unset) delete preferences[k];
    return {
      ...s,
      preferences,
      tools: editPolicy(s.tools, tools),
      ...(prompts !== undefined ? { systemPrompts: prompts } : {}),
      updatedAt: at,
    };
  });
}
