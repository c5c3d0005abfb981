import { keyMatchesScope, keyUnderScope } from "../routing/scope.js";
import { routeLockId } from "../session/ids.js";
import { parseKey } from "../session/keys.js";
import { archive, effectiveStatus } from "../session/lifecycle.js";
import type { Session, SessionSummary } from "../session/types.js";
import { throwIfAborted } from "../store/_mutex.js";
import { canLock } from "../store/store.js";
import type { ManagerContext, SessionWriter, WriteOptions } from "./_context.js";

/** What rescoping does to one live DM session whose key no longer matches `sessions.dmScope`. */
export interface RescopeStep {
  id: string;
  /** Its key now. */
  key: string;
  lastActivityAt: string;
  /** The key its messages route to under the scope; null when its key does not say whom it is for (dm:main). */
  to: string | null;
  /**
   * "move": it becomes the live session of `to`. "archive": archived under
   * its old key (readable, exportable, unarchivable), because another
   * session keeps `to` (`into`) or because no key can be told (`to` null).
   */
  action: "move" | "archive";
  /** For an archive by merge: the session that keeps `to`. */
  into?: string;
}

/** What {@link rescope} planned, and whether it was applied. */
export interface RescopeReport {
  scope: string;
  steps: RescopeStep[];
  applied: boolean;
}

/** The live DM sessions whose key does not match the configured scope and identity links. */
export async function mismatchedKeys(ctx: ManagerContext): Promise<SessionSummary[]> {
  const { dmScope, identityLinks } = ctx.config.sessions;
  const page = await ctx.store.list({ kinds: ["dm"], statuses: ["created", "active"], expiryCutoff: ctx.cutoff() });
  return page.items.filter((s) => !keyMatchesScope(s.key, dmScope, identityLinks));
}

/**
 * Brings live DM sessions in line with `sessions.dmScope` and the identity
 * links, so a scope change orphans nothing silently. Sessions whose new key
 * is the same merge: the key's current live session, else the most recently
 * active of them, keeps the key; the others are archived. A session whose
 * key names no person (dm:main going per person) is archived. `dryRun`
 * only plans. Each move holds the new key's routing lock (or relies on the
 * store's one-live-session-per-key guarantee), so no message routed
 * meanwhile makes a second live session.
 */
export async function rescope(ctx: ManagerContext, writer: SessionWriter, options: WriteOptions & { dryRun?: boolean } = {}): Promise<RescopeReport> {
  const { dmScope, identityLinks } = ctx.config.sessions;
  const steps: RescopeStep[] = [];
  const byTarget = new Map<string, Array<{ id: string; key: string; lastActivityAt: string }>>();
  for (const s of await mismatchedKeys(ctx)) {
    throwIfAborted(options.signal);
    const doc = await writer.load(s.id, options);
    if (doc === undefined) continue;
    const to = keyUnderScope(s.key, dmScope, identityLinks, doc.origin);
    if (to === null) steps.push({ id: s.id, key: s.key, lastActivityAt: s.lastActivityAt, to, action: "archive" });
    else byTarget.set(to, [...(byTarget.get(to) ?? []), { id: s.id, key: s.key, lastActivityAt: s.lastActivityAt }]);
  }
  for (const [to, group] of byTarget) {
    const live = (await ctx.store.list({ key: to, statuses: ["created", "active"], expiryCutoff: ctx.cutoff(), limit: 1 })).items[0];
    // Newest activity first, as list orders them (ties: newest id).
    const ordered = [...group].sort((a, b) => b.lastActivityAt.localeCompare(a.lastActivityAt) || b.id.localeCompare(a.id));
    const keeper = live?.id ?? ordered[0]?.id;
    for (const s of ordered) {
      if (s.id === keeper) steps.push({ ...s, to, action: "move" });
      else steps.push({ ...s, to, action: "archive", ...(keeper !== undefined ? { into: keeper } : {}) });
    }
  }
  steps.sort((a, b) => (a.to ?? "").localeCompare(b.to ?? "") || (a.action === b.action ? 0 : a.action === "move" ? -1 : 1));
  if (options.dryRun) return { scope: dmScope, steps, applied: false };
  for (const step of steps) {
    throwIfAborted(options.signal);
    if (step.action === "archive") await archiveStep(ctx, writer, step, options);
    else await moveStep(ctx, writer, step, options);
  }
  return { scope: dmScope, steps, applied: true };
}

async function archiveStep(ctx: ManagerContext, writer: SessionWriter, step: RescopeStep, options: WriteOptions): Promise<void> {
  await writer.mutate(step.id, (s) => (s.status === "archived" ? undefined : { session: archive(s, ctx.now()), reason: "archived" }), options);
}

async function moveStep(ctx: ManagerContext, writer: SessionWriter, step: RescopeStep, options: WriteOptions): Promise<void> {
  const to = step.to as string;
  const move = async (): Promise<void> => {
    const live = (await ctx.store.list({ key: to, statuses: ["created", "active"], expiryCutoff: ctx.cutoff(), limit: 1 })).items[0];
    // A message routed to the new key since the plan made a session there: it keeps the key.
    if (live !== undefined && live.id !== step.id) {
      step.action = "archive";
      step.into = live.id;
      await archiveStep(ctx, writer, step, options);
      return;
    }
    await writer.mutate(
      step.id,
      (s): { session: Session; reason: "edited" } | undefined => {
        const status = effectiveStatus(s, ctx.cutoff());
        if (s.key !== step.key || (status !== "created" && status !== "active")) return undefined;
        return { session: { ...s, key: to, channel: parseKey(to).channel, updatedAt: ctx.now().toISOString() }, reason: "edited" };
      },
      options,
    );
  };
  const store = ctx.store;
  if (canLock(store)) await store.withLock(routeLockId(to), move, options.signal);
  else await move();
}
