import { createHash } from "node:crypto";
import { isOpenclawError } from "../errors.js";
import { archive, effectiveStatus, evaluateExpiry, expiryCutoff } from "../session/lifecycle.js";
import { clashError, liveClashes, type ClashPolicy, type LiveCandidate } from "../session/live-keys.js";
import type { Message, Session, SessionSummary } from "../session/types.js";
import { throwIfAborted } from "./_mutex.js";
import type { SessionStore } from "./store.js";

/** Options of {@link copySessions}. */
export interface CopyOptions {
  /** Count what would change, write nothing. */
  dryRun?: boolean;
  /** Called after each session with the number done and the total. */
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
  /** Leave sessions the target already holds as they are. */
  skipExisting?: boolean;
  /** What to do with a live source session whose key has another live session in the target (default: refuse the copy). */
  clashes?: ClashPolicy;
  /** How long after its last activity a session expires (sessions.expirationMs; default 0: never). */
  expirationMs?: number;
  /** The time archiving records (default: now). */
  now?: Date;
}

/** A session the copy could not write, and why. */
export interface CopyFailure {
  id: string;
  error: string;
}

/** What {@link copySessions} did (or, dry, would do). */
export interface CopyReport {
  /** Sessions in the source when the copy started. */
  total: number;
  /** Written to a target that did not have them. */
  created: number;
  /** Written over a target copy that differed. */
  updated: number;
  /** Already identical in the target. */
  unchanged: number;
  /** Sessions gone from the source while the copy ran. */
  vanished: number;
  failed: CopyFailure[];
  /** Sessions only the target has (left alone). */
  onlyInTarget: number;
  /** Sessions the target already held, left alone (`skipExisting`). */
  skipped: number;
  /** Source sessions written archived because `live` was live for their key in the target (`as-archived`). */
  importedArchived: Array<{ id: string; key: string; live: string }>;
  /** Target sessions archived so that the copied `replacedBy` is the key's live session (`replace-live`). */
  archivedLive: Array<{ id: string; key: string; replacedBy: string }>;
  /** After the copy: every copied session read back from the target matches the source (absent on a dry run). */
  verified?: { sessions: number; mismatched: string[]; checksum: string };
}

/**
 * Copies every session, its document and its pruned history, from one store
 * to another of any backend. Safe to re-run: a session the target already
 * holds identically is left alone, one that differs is replaced by the
 * source's copy, and sessions only the target has are counted, never
 * deleted. A key keeps one live session: a live source session whose key
 * has another live session in the target is refused before anything is
 * written, unless `clashes` says to write it archived or to archive the
 * target's. At the end every copied session is read back and compared by
 * checksum; the combined checksum lets two stores be compared by eye.
 */
export async function copySessions(from: SessionStore, to: SessionStore, options: CopyOptions = {}): Promise<CopyReport> {
  const summaries = (await from.list()).items;
  const ids = summaries.map((s) => s.id);
  const report: CopyReport = { total: ids.length, created: 0, updated: 0, unchanged: 0, vanished: 0, failed: [], onlyInTarget: 0, skipped: 0, importedArchived: [], archivedLive: [] };
  const held = options.skipExisting === true ? new Set((await to.list()).items.map((s) => s.id)) : new Set<string>();
  const now = options.now ?? new Date();
  const expirationMs = options.expirationMs ?? 0;
  const plan = await planLiveKeys(
    to,
    summaries.filter((s) => !held.has(s.id)),
    options.clashes ?? "refuse",
    expiryCutoff(expirationMs, now),
  );
  await settleTarget(to, plan, { now, expirationMs, dryRun: options.dryRun === true }, report);
  const expected = new Map<string, string>();
  let done = 0;
  for (const id of ids) {
    throwIfAborted(options.signal);
    const source = held.has(id) ? undefined : await from.get(id);
    if (held.has(id)) {
      report.skipped += 1;
    } else if (source === undefined) {
      report.vanished += 1;
    } else {
      const pruned = await from.readPruned(id);
      const live = plan.asArchived.get(id);
      if (live !== undefined) {
        source.session = archive(source.session, now);
        report.importedArchived.push({ id, key: source.session.key, live });
      }
      const sum = sessionChecksum(source.session, pruned);
      const target = await to.get(id);
      const targetSum = target === undefined ? undefined : sessionChecksum(target.session, await to.readPruned(id));
      if (targetSum === sum) {
        report.unchanged += 1;
        expected.set(id, sum);
      } else if (options.dryRun) {
        if (target === undefined) report.created += 1;
        else report.updated += 1;
      } else {
        try {
          await to.commit({ session: source.session, expectedRevision: target?.session.revision ?? null, pruned: { replace: pruned }, reason: "imported" });
          if (target === undefined) report.created += 1;
          else report.updated += 1;
          expected.set(id, sum);
        } catch (err) {
          if (!isOpenclawError(err)) throw err;
          report.failed.push({ id, error: err.message });
        }
      }
    }
    options.onProgress?.(++done, ids.length);
  }
  const sourceIds = new Set(ids);
  report.onlyInTarget = (await to.list()).items.filter((s) => !sourceIds.has(s.id)).length;
  if (!options.dryRun) report.verified = await verify(to, expected, options.signal);
  return report;
}

interface LivePlan {
  /** Source sessions to write archived, with the session live for their key. */
  asArchived: Map<string, string>;
  /** Target sessions to archive, with their key and the source session that takes it. */
  archive: Map<string, { key: string; by: string }>;
  /** Target sessions stored live that have expired by the cutoff: marked expired, so a store that records each key's live session lets the copied one take it. */
  expire: string[];
}

async function planLiveKeys(to: SessionStore, incoming: readonly SessionSummary[], policy: ClashPolicy, cutoff: string | null): Promise<LivePlan> {
  const candidate = (s: SessionSummary): LiveCandidate => ({ id: s.id, key: s.key, status: effectiveStatus(s, cutoff), lastActivityAt: s.lastActivityAt });
  const sources = incoming.map(candidate);
  const keys = new Set(sources.filter((s) => s.status === "created" || s.status === "active").map((s) => s.key));
  const stored = (await to.list({ statuses: ["created", "active"], expiryCutoff: null })).items.filter((s) => keys.has(s.key)).map(candidate);
  const clashes = liveClashes(sources, stored);
  if (clashes.length > 0 && policy === "refuse") throw clashError("copy", clashes);
  const plan: LivePlan = { asArchived: new Map(), archive: new Map(), expire: [] };
  for (const c of clashes) {
    if (policy === "as-archived" || c.liveIsIncoming) plan.asArchived.set(c.incoming, c.live);
    else for (const s of stored) if (s.key === c.key && s.status !== "expired" && s.id !== c.incoming) plan.archive.set(s.id, { key: c.key, by: c.incoming });
  }
  const taking = new Set(sources.filter((s) => (s.status === "created" || s.status === "active") && !plan.asArchived.has(s.id)).map((s) => s.key));
  const ids = new Set(sources.map((s) => s.id));
  plan.expire = stored.filter((s) => s.status === "expired" && taking.has(s.key) && !ids.has(s.id)).map((s) => s.id);
  return plan;
}

// Archives the target's live sessions that copied ones replace (a dry run only counts them), and marks its stale live ones expired.
async function settleTarget(to: SessionStore, plan: LivePlan, at: { now: Date; expirationMs: number; dryRun: boolean }, report: CopyReport): Promise<void> {
  for (const [id, { key, by }] of plan.archive) {
    if (!at.dryRun) {
      const loaded = await to.get(id);
      if (loaded === undefined || loaded.session.status === "archived") continue;
      await to.commit({ session: archive(evaluateExpiry(loaded.session, at.expirationMs, at.now), at.now), expectedRevision: loaded.session.revision, reason: "archived" });
    }
    report.archivedLive.push({ id, key, replacedBy: by });
  }
  if (at.dryRun) return;
  for (const id of plan.expire) {
    const loaded = await to.get(id);
    if (loaded === undefined) continue;
    const expired = evaluateExpiry(loaded.session, at.expirationMs, at.now);
    if (expired !== loaded.session) await to.commit({ session: expired, expectedRevision: loaded.session.revision, reason: "expired" });
  }
}

async function verify(to: SessionStore, expected: ReadonlyMap<string, string>, signal?: AbortSignal): Promise<NonNullable<CopyReport["verified"]>> {
  const mismatched: string[] = [];
  const combined = createHash("sha256");
  for (const id of [...expected.keys()].sort()) {
    throwIfAborted(signal);
    const loaded = await to.get(id);
    const sum = loaded === undefined ? "absent" : sessionChecksum(loaded.session, await to.readPruned(id));
    if (sum !== expected.get(id)) mismatched.push(id);
    combined.update(`${id} ${sum}\n`);
  }
  return { sessions: expected.size, mismatched, checksum: combined.digest("hex") };
}

/**
 * A digest of what a session holds, equal across backends: the revision is
 * left out (each store counts its own writes) and keys are sorted (a
 * database may reorder them).
 */
export function sessionChecksum(session: Session, pruned: readonly Message[]): string {
  const { revision: _revision, ...content } = session;
  return createHash("sha256").update(canonicalJson({ content, pruned })).digest("hex");
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}
