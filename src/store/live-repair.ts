import { isOpenclawError } from "../errors.js";
import { archive } from "../session/lifecycle.js";
import { newestFirst } from "../session/live-keys.js";
import type { SessionSummary } from "../session/types.js";
import type { SessionStore } from "./store.js";

/** A key with more than one live session: the one to keep (the most recently active) and the others. */
export interface DoubleLive {
  key: string;
  keep: SessionSummary;
  older: SessionSummary[];
}

/** Keys with more than one live session (created or active, not expired at `cutoff`), which no writer should have made but an old import or a bug could. */
export async function findDoubleLive(store: SessionStore, cutoff: string | null): Promise<DoubleLive[]> {
  const byKey = new Map<string, SessionSummary[]>();
  for (const s of (await store.list({ statuses: ["created", "active"], expiryCutoff: cutoff })).items) byKey.set(s.key, [...(byKey.get(s.key) ?? []), s]);
  const out: DoubleLive[] = [];
  for (const [key, sessions] of byKey) {
    if (sessions.length < 2) continue;
    const [keep, ...older] = [...sessions].sort(newestFirst);
    if (keep !== undefined) out.push({ key, keep, older });
  }
  return out.sort((a, b) => a.key.localeCompare(b.key));
}

/**
 * Archives the older live sessions of a key, then saves the kept one again,
 * so a store that records each key's live session (PostgreSQL's live-key
 * claim) records the kept one. Returns the ids archived.
 */
export async function archiveOlderLive(store: SessionStore, double: DoubleLive, now: Date): Promise<string[]> {
  const archived: string[] = [];
  for (const s of double.older) {
    const done = await retryOnConflict(async () => {
      const loaded = await store.get(s.id);
      if (loaded === undefined || loaded.session.status === "archived") return false;
      await store.commit({ session: archive(loaded.session, now), expectedRevision: loaded.session.revision, reason: "archived" });
      return true;
    });
    if (done) archived.push(s.id);
  }
  await retryOnConflict(async () => {
    const kept = await store.get(double.keep.id);
    if (kept !== undefined && kept.session.status !== "archived") await store.commit({ session: kept.session, expectedRevision: kept.session.revision, reason: "edited" });
    return true;
  });
  return archived;
}

// A writer that got in between is fine: read again and retry, a few times.
async function retryOnConflict(fn: () => Promise<boolean>): Promise<boolean> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!isOpenclawError(err, "CONFLICT") || attempt >= 5) throw err;
    }
  }
}
