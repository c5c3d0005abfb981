import { OpenclawError } from "../../errors.js";
import { effectiveStatus } from "../../session/lifecycle.js";
import type { Session } from "../../session/types.js";
import type { Commit, ListPage, ListQuery, Loaded } from "../store.js";

/** The store calls {@link findOrCreateLiveLocked} needs. */
export interface RoutingOps {
  list(query: ListQuery): Promise<ListPage>;
  get(id: string): Promise<Loaded | undefined>;
  commit(change: Commit): Promise<Session>;
}

/**
 * The key's live session, or a new one saved at revision 1. The caller holds
 * the key's lock, so no other writer can create a live session for the key
 * between the look-up and the save. `thorough` is a second look before
 * creating, for a store whose `list` by key answers from a cache: the file
 * store then checks its index against the directory, so a session whose
 * document a process saved before dying unindexed is found, not doubled.
 */
export async function findOrCreateLiveLocked(
  store: RoutingOps,
  key: string,
  expiryCutoff: string | null,
  create: () => Session | Promise<Session>,
  thorough?: (query: ListQuery) => Promise<ListPage>,
): Promise<{ session: Session; created: boolean }> {
  const query: ListQuery = { key, expiryCutoff, statuses: ["created", "active"] };
  const live = (await liveOf(store, await store.list(query), key, expiryCutoff)) ?? (thorough === undefined ? undefined : await liveOf(store, await thorough(query), key, expiryCutoff));
  if (live !== undefined) return { session: live, created: false };
  const fresh = await create();
  if (fresh.key !== key) {
    throw new OpenclawError("INVALID_ARGUMENT", `the session created for key ${JSON.stringify(key).slice(0, 120)} has another key; nothing was saved`, { userError: false });
  }
  return { session: await store.commit({ session: fresh, expectedRevision: null, reason: "created" }), created: true };
}

/** The newest listed candidate whose loaded document is live for `key`. */
async function liveOf(store: RoutingOps, page: ListPage, key: string, expiryCutoff: string | null): Promise<Session | undefined> {
  // Newest first by id (time-ordered), as the memory store picks; the index
  // only nominates candidates, the loaded document decides.
  const candidates = page.items.map((s) => s.id).sort((a, b) => (a < b ? 1 : a > b ? -1 : 0));
  for (const id of candidates) {
    const loaded = await store.get(id);
    if (loaded === undefined || loaded.session.key !== key) continue;
    const status = effectiveStatus(loaded.session, expiryCutoff);
    if (status === "created" || status === "active") return loaded.session;
  }
  return undefined;
}
