import { OpenclawError } from "../errors.js";
import { archive, evaluateExpiry, unarchive } from "../session/lifecycle.js";
import type { Session, SessionStatus } from "../session/types.js";
import { throwIfAborted } from "../store/_mutex.js";
import type { ManagerContext, SessionWriter, WriteOptions } from "./_context.js";
import { notFound } from "./_refs.js";

/** A session as bulk operations report it. */
export interface SessionRef {
  id: string;
  key: string;
  status: SessionStatus;
  lastActivityAt: string;
}

const refOf = (s: Pick<Session, "id" | "key" | "status" | "lastActivityAt">): SessionRef => ({ id: s.id, key: s.key, status: s.status, lastActivityAt: s.lastActivityAt });

/** Loads every id with its status evaluated now; NOT_FOUND for the first that is missing, before anything changes. */
export async function loadAll(ctx: ManagerContext, writer: SessionWriter, ids: readonly string[], options: WriteOptions = {}): Promise<Session[]> {
  const out: Session[] = [];
  for (const id of ids) {
    const s = await writer.load(id, options);
    if (s === undefined) throw notFound(id);
    out.push(evaluateExpiry(s, ctx.expiryMs, ctx.now()));
  }
  return out;
}

/**
 * Archives or unarchives sessions, all or none: every session is checked
 * first, so a typo or a wrong state changes nothing.
 */
export async function setArchived(ctx: ManagerContext, writer: SessionWriter, ids: readonly string[], action: "archive" | "unarchive", options: WriteOptions = {}): Promise<Session[]> {
  const sessions = await loadAll(ctx, writer, ids, options);
  for (const s of sessions) {
    if (action === "archive" && s.status === "archived") throw new OpenclawError("INVALID_ARGUMENT", `session ${s.id} is already archived; nothing was changed`);
    if (action === "unarchive" && s.status !== "archived") throw new OpenclawError("INVALID_ARGUMENT", `session ${s.id} is not archived (it is ${s.status}); nothing was changed`);
  }
  if (action === "unarchive") {
    const keys = new Map<string, string>();
    for (const s of sessions) {
      // A key has at most one live session: bringing one back must not make a second
      // (one that comes back expired is not live, and cannot clash).
      if (unarchive(s, ctx.expiryMs, ctx.now()).status === "expired") continue;
      const live = (await ctx.store.list({ key: s.key, statuses: ["created", "active"], expiryCutoff: ctx.cutoff() })).items.find((x) => x.id !== s.id);
      const other = live?.id ?? keys.get(s.key);
      if (other !== undefined) {
        throw new OpenclawError("ALREADY_EXISTS", `cannot unarchive ${s.id}: session ${other} is already live for ${s.key}; archive ${other} first (a key has at most one live session); nothing was changed`);
      }
      keys.set(s.key, s.id);
    }
  }
  const done: Session[] = [];
  for (const id of ids) {
    throwIfAborted(options.signal);
    const expirationMs = ctx.expiryMs;
    done.push(
      await writer.mutate(
        id,
        (s) => (action === "archive" ? { session: archive(evaluateExpiry(s, expirationMs, ctx.now()), ctx.now()), reason: "archived" } : { session: unarchive(s, expirationMs, ctx.now()), reason: "unarchived" }),
        options,
      ),
    );
  }
  return done;
}

/** Which sessions a bulk delete selects: by effective status, optionally idle for longer than `olderThanMs`. */
export async function selectForDelete(ctx: ManagerContext, status: "expired" | "archived", olderThanMs?: number): Promise<SessionRef[]> {
  const cutoff = olderThanMs === undefined ? Infinity : ctx.now().getTime() - olderThanMs;
  const page = await ctx.store.list({ statuses: [status], expiryCutoff: ctx.cutoff() });
  return page.items.filter((s) => Date.parse(s.lastActivityAt) < cutoff).map(refOf);
}

/** Deletes sessions (already resolved and checked), reporting progress; returns what was deleted. */
export async function deleteAll(writer: SessionWriter, targets: readonly SessionRef[], options: WriteOptions & { onProgress?: (done: number, total: number) => void } = {}): Promise<SessionRef[]> {
  const deleted: SessionRef[] = [];
  for (const t of targets) {
    throwIfAborted(options.signal);
    if (await writer.remove(t.id, options)) deleted.push(t);
    options.onProgress?.(deleted.length, targets.length);
  }
  return deleted;
}

/** The bulk-operation view of loaded sessions. */
export { refOf };
