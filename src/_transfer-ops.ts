import { OpenclawError } from "./errors.js";
import type { SessionManager } from "./manager.js";
import type { Session } from "./session/types.js";
import { EXPORT_FORMAT, EXPORT_VERSION, toExported, type ExportEnvelope } from "./transfer.js";

/** Builds the export document of the given session ids, each read under its lock so it is consistent. */
export async function exportSessions(manager: SessionManager, ids: readonly string[]): Promise<ExportEnvelope> {
  const sessions = [];
  for (const id of ids) {
    const item = await manager.store.withLock(id, async () => {
      const loaded = await manager.store.get(id);
      if (loaded === undefined) return undefined;
      return toExported(loaded.session, await manager.store.readPruned(id));
    });
    if (item !== undefined) sessions.push(item);
  }
  return { format: EXPORT_FORMAT, version: EXPORT_VERSION, exportedAt: manager.now().toISOString(), sessions };
}

/** What an import did. */
export interface ImportReport {
  imported: string[];
  overwritten: string[];
}

/**
 * Restores an export. Every session is checked before anything is written,
 * so a refused import writes nothing; existing ids are refused unless
 * `overwrite`.
 */
export async function importSessions(
  manager: SessionManager,
  envelope: ExportEnvelope,
  options: { overwrite?: boolean; onProgress?: (done: number, total: number) => void } = {},
): Promise<ImportReport> {
  // An import is an intake path like append: the message size limit holds here too.
  const limit = manager.config.sessions.maxMessageBytes;
  for (const s of envelope.sessions) {
    for (const m of [...s.prunedHistory, ...s.messages]) {
      const bytes = Buffer.byteLength(m.content, "utf8");
      if (bytes > limit) {
        throw new OpenclawError("MESSAGE_TOO_LARGE", `cannot import: message ${m.id} of session ${s.id} is ${bytes} bytes, over the limit of ${limit} bytes (sessions.maxMessageBytes); nothing was written`);
      }
    }
  }
  const existing = new Map<string, number>();
  for (const s of envelope.sessions) {
    const loaded = await manager.store.get(s.id);
    if (loaded !== undefined) existing.set(s.id, loaded.session.revision);
  }
  if (existing.size > 0 && options.overwrite !== true) {
    const ids = [...existing.keys()];
    throw new OpenclawError(
      "ALREADY_EXISTS",
      `cannot import: ${ids.length} session(s) already exist (${ids.slice(0, 3).join(", ")}${ids.length > 3 ? ", ..." : ""}); use --overwrite to replace them. Nothing was written`,
    );
  }
  const report: ImportReport = { imported: [], overwritten: [] };
  let done = 0;
  for (const exported of envelope.sessions) {
    const { prunedHistory, ...rest } = exported;
    await manager.store.withLock(rest.id, async () => {
      const current = await manager.store.get(rest.id);
      const doc: Session = { ...rest, revision: 0 };
      // Log first, document second: an interrupted import leaves at worst an
      // orphan log that the next import replaces, never a document missing history.
      await manager.store.replacePruned(rest.id, prunedHistory);
      await manager.store.put(doc, current === undefined ? null : current.session.revision);
      (current === undefined ? report.imported : report.overwritten).push(rest.id);
    });
    options.onProgress?.(++done, envelope.sessions.length);
  }
  return report;
}
