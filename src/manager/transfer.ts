import { OpenclawError } from "../errors.js";
import { EXPORT_FORMAT, EXPORT_VERSION, toExported, type ExportEnvelope } from "../session/export.js";
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
}

/**
 * Restores an export. Every session is checked before anything is written,
 * so a refused import writes nothing; existing ids are refused unless
 * `overwrite`. Each session is one commit of its document and its log.
 */
export async function importSessions(
  ctx: ManagerContext,
  writer: SessionWriter,
  envelope: ExportEnvelope,
  options: WriteOptions & { overwrite?: boolean; onProgress?: (done: number, total: number) => void } = {},
): Promise<ImportReport> {
  // An import is an intake path like append: the message size limit holds here too.
  const limit = ctx.config.sessions.maxMessageBytes;
  for (const s of envelope.sessions) {
    for (const m of [...s.prunedHistory, ...s.messages]) {
      const bytes = Buffer.byteLength(m.content, "utf8");
      if (bytes > limit) {
        throw new OpenclawError("MESSAGE_TOO_LARGE", `cannot import: message ${m.id} of session ${s.id} is ${bytes} bytes, over the limit of ${limit} bytes (sessions.maxMessageBytes); nothing was written`);
      }
    }
  }
  const existing: string[] = [];
  for (const s of envelope.sessions) if ((await writer.load(s.id, options)) !== undefined) existing.push(s.id);
  if (existing.length > 0 && options.overwrite !== true) {
    throw new OpenclawError(
      "ALREADY_EXISTS",
      `cannot import: ${existing.length} session(s) already exist (${existing.slice(0, 3).join(", ")}${existing.length > 3 ? ", ..." : ""}); use --overwrite to replace them. Nothing was written`,
    );
  }
  const report: ImportReport = { imported: [], overwritten: [] };
  let done = 0;
  for (const exported of envelope.sessions) {
    throwIfAborted(options.signal);
    const { prunedHistory, ...rest } = exported;
    const doc: Session = { ...rest, revision: 0 };
    const { existed } = await writer.replace(doc, prunedHistory, options);
    (existed ? report.overwritten : report.imported).push(rest.id);
    options.onProgress?.(++done, envelope.sessions.length);
  }
  return report;
}
