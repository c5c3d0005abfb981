import type { Message, Session, SessionStatus } from "../session/types.js";
import type { ListQuery, SessionStore } from "../store/store.js";
import type { ListOptions } from "./types.js";
import { looksLikeKey, normalizeKey } from "../session/keys.js";

/** The store query of a manager list: archived sessions hidden unless asked for, activity window from `now`. */
export function listQuery(options: ListOptions, now: Date, expiryCutoff: string | null): ListQuery {
  const statuses: SessionStatus[] | undefined = options.status === undefined ? ["created", "active", "expired"] : options.status === "all" ? undefined : [options.status];
  const activeSince = options.activeWithinMinutes === undefined ? undefined : new Date(now.getTime() - options.activeWithinMinutes * 60_000).toISOString();
  return {
    ...(statuses ? { statuses } : {}),
    ...(options.kind ? { kinds: [options.kind] } : {}),
    ...(options.channel !== undefined ? { channel: options.channel.toLowerCase() } : {}),
    ...(options.key !== undefined ? { key: looksLikeKey(options.key) ? normalizeKey(options.key) : options.key } : {}),
    ...(activeSince !== undefined ? { activeSince } : {}),
    ...(options.limit !== undefined ? { limit: options.limit } : {}),
    ...(options.offset !== undefined ? { offset: options.offset } : {}),
    expiryCutoff,
  };
}

/** The pruned-history log then the active history, a message in both (an interrupted fold) once. */
export async function mergedHistory(store: SessionStore, session: Session): Promise<Message[]> {
  const active = new Set(session.messages.map((m) => m.id));
  const pruned = (await store.readPruned(session.id)).filter((m) => !active.has(m.id));
  return [...pruned, ...session.messages];
}
