import { OpenclawError } from "../errors.js";
import { EXPORT_FORMAT, EXPORT_VERSION, toExported, type ExportedSession, type ExportEnvelope } from "../session/export.js";
import { describe, isIdPrefix, isShortRef, isValidId, shortRef } from "../session/ids.js";
import { looksLikeKey, normalizeKey } from "../session/keys.js";
import { archive, effectiveStatus, evaluateExpiry } from "../session/lifecycle.js";
import { clashError, liveClashes, type ClashPolicy, type LiveCandidate } from "../session/live-keys.js";
import type { Session } from "../session/types.js";
import { throwIfAborted } from "../store/_mutex.js";
import type { ManagerContext, SessionWriter, WriteOptions } from "./_context.js";
import { notFound } from "./_refs.js";

/**
 * Builds the export document of the given session ids. The document is read
 * before its pruned log: a fold commits the log first, so a message folded
 * in between is in both and the active copy wins, never in neither.
 * `requireAll` makes a missing id an error instead of a shorter export.
 */
export async function exportSessions(ctx: ManagerContext, writer: SessionWriter, ids: readonly string[], options: WriteOptions & { requireAll?: boolean } = {}): Promise<ExportEnvelope> {
  const sessions = [];
  for (const id of ids) {
    throwIfAborted(options.signal);
    const doc = await writer.load(id, options);
    if (doc === undefined) {
      if (options.requireAll) throw notFound(id);
      continue;
    }
    sessions.push(toExported(doc, await ctx.store.readPruned(id)));
  }
  return { format: EXPORT_FORMAT, version: EXPORT_VERSION, exportedAt: ctx.now().toISOString(), sessions };
}

/** What an import did. */
export interface ImportReport {
  imported: string[];
  overwritten: string[];
  /** Ids already stored, left as they are (`skipExisting`). */
  skipped: string[];
  /** Imported (or overwritten) sessions stored archived because `live` was live for their key (`as-archived`). */
  importedArchived: Array<{ id: string; key: string; live: string }>;
  /** Stored sessions archived so that the imported `replacedBy` is the key's live session (`replace-live`). */
  archivedLive: Array<{ id: string; key: string; replacedBy: string }>;
}

/** Options of {@link importSessions}. */
export interface ImportOptions extends WriteOptions {
  /** Replace sessions whose id is already stored. */
  overwrite?: boolean;
  /** Leave sessions whose id is already stored as they are, import the rest. */
  skipExisting?: boolean;
  /** What to do with an imported live session whose key has another live session (default: refuse the import). */
  clashes?: ClashPolicy;
  /** Only the sessions these references name (id, id prefix, short ref or routing key), from the document. */
  refs?: readonly string[];
  /** Where the document came from, for messages (a file name, "stdin"). */
  source?: string;
  onProgress?: (done: number, total: number) => void;
}

/**
 * Restores an export. Every session is checked before anything is written,
 * so a refused import writes nothing: existing ids are refused unless
 * `overwrite` (or left alone with `skipExisting`), and a live session whose
 * key already has another live session is refused unless `clashes` says
 * to import it archived or to archive the stored one. Each session is one
 * commit of its document and its log.
 */
export async function importSessions(ctx: ManagerContext, writer: SessionWriter, envelope: ExportEnvelope, options: ImportOptions = {}): Promise<ImportReport> {
  if (options.overwrite === true && options.skipExisting === true) throw new OpenclawError("INVALID_ARGUMENT", "--overwrite and --skip-existing exclude each other: pick one");
  const selected = options.refs === undefined || options.refs.length === 0 ? envelope.sessions : selectExported(envelope.sessions, options.refs, options.source ?? "the import");
  // An import is an intake path like append: the message size limit holds here too.
  const limit = ctx.config.sessions.maxMessageBytes;
  for (const s of selected) {
    for (const m of [...s.prunedHistory, ...s.messages]) {
      const bytes = Buffer.byteLength(m.content, "utf8");
      if (bytes > limit) {
        throw new OpenclawError("MESSAGE_TOO_LARGE", `cannot import: message ${m.id} of session ${s.id} is ${bytes} bytes, over the limit of ${limit} bytes (sessions.maxMessageBytes); nothing was written`);
      }
    }
  }
  const existing = new Set<string>();
  for (const s of selected) if ((await writer.load(s.id, options)) !== undefined) existing.add(s.id);
  if (existing.size > 0 && options.overwrite !== true && options.skipExisting !== true) {
    const shown = [...existing];
    throw new OpenclawError(
      "ALREADY_EXISTS",
      `cannot import: ${shown.length} session(s) already exist (${shown.slice(0, 3).join(", ")}${shown.length > 3 ? ", ..." : ""}); use --overwrite to replace them or --skip-existing to leave them. Nothing was written`,
    );
  }
  const sessions = options.skipExisting === true ? selected.filter((s) => !existing.has(s.id)) : selected;
  const plan = await planLiveKeys(ctx, sessions, options.clashes ?? "refuse");
  const report: ImportReport = { imported: [], overwritten: [], skipped: selected.filter((s) => !sessions.includes(s)).map((s) => s.id), importedArchived: [], archivedLive: [] };
  // The stored live sessions go first, so the imported one can take the key's claim.
  for (const [id, { key, by }] of plan.archive) {
    throwIfAborted(options.signal);
    await writer.mutate(id, (s) => (s.status === "archived" ? undefined : { session: archive(evaluateExpiry(s, ctx.expiryMs, ctx.now()), ctx.now()), reason: "archived" }), options);
    report.archivedLive.push({ id, key, replacedBy: by });
  }
  for (const id of plan.expire) {
    throwIfAborted(options.signal);
    await writer.mutate(
      id,
      (s) => {
        const expired = evaluateExpiry(s, ctx.expiryMs, ctx.now());
        return expired === s ? undefined : { session: expired, reason: "expired" };
      },
      options,
    );
  }
  let done = 0;
  for (const exported of sessions) {
    throwIfAborted(options.signal);
    const { prunedHistory, ...rest } = exported;
    const live = plan.asArchived.get(rest.id);
    const doc: Session = live === undefined ? { ...rest, revision: 0 } : archive({ ...rest, revision: 0 }, ctx.now());
    const { existed } = await writer.replace(doc, prunedHistory, options);
    (existed ? report.overwritten : report.imported).push(rest.id);
    if (live !== undefined) report.importedArchived.push({ id: rest.id, key: rest.key, live });
    options.onProgress?.(++done, sessions.length);
  }
  return report;
}

/**
 * Checks the one-live-session-per-key rule for the sessions about to be
 * imported: which are refused (thrown), stored archived, or replace stored
 * live sessions (archived first). A stored session whose key an imported
 * live one takes and that has expired unsaid is marked expired first, so
 * a store that records each key's live session lets the imported one take it.
 */
async function planLiveKeys(
  ctx: ManagerContext,
  sessions: readonly ExportedSession[],
  policy: ClashPolicy,
): Promise<{ asArchived: Map<string, string>; archive: Map<string, { key: string; by: string }>; expire: string[] }> {
  const cutoff = ctx.cutoff();
  const incoming: LiveCandidate[] = sessions.map((s) => ({ id: s.id, key: s.key, status: effectiveStatus(s, cutoff), lastActivityAt: s.lastActivityAt }));
  const keys = new Set(incoming.filter((s) => s.status === "created" || s.status === "active").map((s) => s.key));
  // Sessions stored live (expiry not applied: those expired since are found too). A few keys are
  // looked up one by one; a restore of many lists every stored live session once instead.
  const storedLive = async (key?: string) => (await ctx.store.list({ ...(key !== undefined ? { key } : {}), statuses: ["created", "active"], expiryCutoff: null })).items;
  const summaries = keys.size <= 64 ? (await Promise.all([...keys].map((k) => storedLive(k)))).flat() : (await storedLive()).filter((s) => keys.has(s.key));
  const stored: LiveCandidate[] = summaries.map((s) => ({ id: s.id, key: s.key, status: effectiveStatus(s, cutoff), lastActivityAt: s.lastActivityAt }));
  const clashes = liveClashes(incoming, stored);
  if (clashes.length > 0 && policy === "refuse") throw clashError("import", clashes);
  const asArchived = new Map<string, string>();
  const archiveIds = new Map<string, { key: string; by: string }>();
  for (const c of clashes) {
    if (policy === "as-archived" || c.liveIsIncoming) asArchived.set(c.incoming, c.live);
    else for (const s of stored) if (s.key === c.key && s.status !== "expired" && s.id !== c.incoming) archiveIds.set(s.id, { key: c.key, by: c.incoming });
  }
  // Stale holders of a key an imported session will be live for: the sessions stored live but expired by now.
  const taking = new Set(incoming.filter((s) => (s.status === "created" || s.status === "active") && !asArchived.has(s.id)).map((s) => s.key));
  const stale = stored.filter((s) => s.status === "expired" && taking.has(s.key) && !incoming.some((i) => i.id === s.id));
  return { asArchived, archive: archiveIds, expire: stale.map((s) => s.id) };
}

/** The exported sessions the references name: a full id, a short ref, an id prefix (one session) or a routing key (each session of it). */
function selectExported(sessions: readonly ExportedSession[], refs: readonly string[], source: string): ExportedSession[] {
  const picked = new Set<string>();
  for (const ref of refs) {
    const lower = ref.toLowerCase();
    let hits: ExportedSession[];
    if (looksLikeKey(ref)) hits = sessions.filter((s) => s.key === normalizeKey(ref));
    else if (isValidId(ref)) hits = sessions.filter((s) => s.id === ref);
    else if (isShortRef(ref)) hits = sessions.filter((s) => shortRef(s.id) === lower);
    else if (isIdPrefix(lower) && lower.length >= 6) hits = sessions.filter((s) => s.id.startsWith(lower));
    else throw new OpenclawError("INVALID_ID", `invalid session reference ${describe(ref)}: expected an id, an id prefix of at least 6 characters, or a routing key such as dm:telegram:42`);
    if (hits.length === 0) throw new OpenclawError("NOT_FOUND", `no session in ${source} matches ${JSON.stringify(ref)}; nothing was written`);
    if (hits.length > 1 && !looksLikeKey(ref)) {
      throw new OpenclawError(
        "AMBIGUOUS_REF",
        `${JSON.stringify(ref)} is ambiguous in ${source}: ${hits.length} sessions match (${hits
          .slice(0, 5)
          .map((s) => s.id)
          .join(", ")}); give more characters; nothing was written`,
      );
    }
    for (const s of hits) picked.add(s.id);
  }
  return sessions.filter((s) => picked.has(s.id));
}
