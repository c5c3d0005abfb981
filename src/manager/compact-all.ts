import { dueForArchive, evaluateExpiry } from "../session/lifecycle.js";
import type { SessionSummary } from "../session/types.js";
import { throwIfAborted } from "../store/_mutex.js";
import type { ManagerContext, SessionWriter, WriteOptions } from "./_context.js";
import type { Compactor } from "./compact.js";

/** What `compact` did (or would do) to one session. */
export interface CompactAction {
  id: string;
  key: string;
  expired: boolean;
  archived: boolean;
  folded: number;
  error: string | null;
}

/** Report of `sessions compact`. */
export interface CompactReport {
  dryRun: boolean;
  /** Sessions considered. */
  sessions: number;
  touched: number;
  actions: CompactAction[];
  /** Store size before and after; null when the store cannot tell. */
  bytesBefore: number | null;
  bytesAfter: number | null;
  leftoversRemoved: number;
  indexRebuilt: boolean;
  /** Corrupt documents found (moved to quarantine, or on a dry run, that would be). */
  quarantined: string[];
}

/** Options of {@link compactSessions}. */
export interface CompactOptions extends WriteOptions {
  /** Only these sessions (every one is examined); default: the candidates of the whole store. */
  ids?: readonly string[];
  dryRun?: boolean;
  onProgress?: (done: number, total: number) => void;
}

/**
 * Marks expired sessions, archives those expired longer than
 * `archiveAfterMs`, folds histories over `maxHistoryLength`, then lets the
 * store remove leftovers and rebuild derived data. Over the whole store, the
 * candidates are chosen from the summaries, so only sessions with work to do
 * are loaded.
 */
export async function compactSessions(ctx: ManagerContext, writer: SessionWriter, compactor: Compactor, options: CompactOptions = {}): Promise<CompactReport> {
  // Idle expiry as every reset policy agrees on it; daily resets are applied at routing.
  const config = { ...ctx.config.sessions, expirationMs: ctx.expiryMs };
  const dryRun = options.dryRun === true;
  const store = ctx.store;
  const bytesBefore = await store.sizeOnDisk();
  const now = ctx.now();
  let considered: number;
  let ids: readonly string[];
  if (options.ids !== undefined) {
    ids = options.ids;
    considered = ids.length;
  } else {
    const all = await store.list({});
    considered = all.total;
    ids = all.items.filter((s) => hasWork(s, config, now)).map((s) => s.id);
  }
  const actions: CompactAction[] = [];
  const unreadable: string[] = [];
  let predictedDelta = 0;
  let done = 0;
  for (const id of ids) {
    throwIfAborted(options.signal);
    const before = await writer.load(id, options);
    options.onProgress?.(++done, ids.length);
    if (before === undefined) {
      // Listed but unreadable: the store found it corrupt and moved it aside (or, rarely, it was deleted meanwhile).
      unreadable.push(id);
      continue;
    }
    const at = ctx.now();
    const evaluated = evaluateExpiry(before, config.expirationMs, at);
    const expired = evaluated.status === "expired" && before.status !== "expired";
    const archive = evaluated.status === "expired" && dueForArchive(before, config.expirationMs, config.archiveAfterMs, at);
    const overLength = before.status !== "archived" && !archive && before.messages.length > config.maxHistoryLength;
    const action: CompactAction = { id, key: before.key, expired, archived: archive, folded: 0, error: null };
    if (dryRun) {
      if (overLength) {
        const preview = await compactor.preview(before);
        action.folded = preview.folded;
        predictedDelta += preview.bytesDelta;
      }
    } else {
      let current = before;
      if (expired || archive) {
        current = await writer.mutate(
          id,
          (s) => {
            const t = ctx.now();
            const e = evaluateExpiry(s, config.expirationMs, t);
            if (e.status !== "expired") return undefined;
            if (archive) return { session: { ...e, status: "archived", archivedAt: t.toISOString(), updatedAt: t.toISOString() }, reason: "archived" };
            return e === s ? undefined : { session: e, reason: "expired" };
          },
          options,
        );
      }
      if (overLength) {
        const outcome = await compactor.fold(current, options);
        action.folded = outcome.folded;
        action.error = outcome.error;
      } else if (options.ids !== undefined) {
        await compactor.applyRetention(current, options);
      }
    }
    if (action.expired || action.archived || action.folded > 0 || action.error !== null) actions.push(action);
  }
  const maint = await store.maintain({ dryRun });
  // A dry run predicts the size from what each fold would write; the real run measures it.
  const bytesAfter = dryRun ? bytesBefore + predictedDelta : await store.sizeOnDisk();
  return {
    dryRun,
    sessions: considered,
    touched: actions.length,
    actions,
    bytesBefore,
    bytesAfter,
    leftoversRemoved: maint.leftoversRemoved,
    indexRebuilt: maint.indexRebuilt,
    quarantined: [...new Set([...unreadable.map((id) => `${id}.json`), ...maint.quarantined])],
  };
}

/** True when a session, by its summary alone, may need compacting: expiry to record, archiving due, or a long history. */
function hasWork(s: SessionSummary, config: { expirationMs: number; archiveAfterMs: number; maxHistoryLength: number }, now: Date): boolean {
  if (s.status === "archived") return false;
  if (s.messageCount > config.maxHistoryLength) return true;
  if (config.expirationMs <= 0) return false;
  const expiredAt = Date.parse(s.lastActivityAt) + config.expirationMs;
  if (s.status !== "expired" && expiredAt < now.getTime()) return true;
  return dueForArchive(s, config.expirationMs, config.archiveAfterMs, now);
}
