import { z } from "zod";
import { OpenclawError } from "../errors.js";
import { isValidId } from "./ids.js";
import { parseKey } from "./keys.js";
import { messageSchema, parseStoredSession } from "./schema.js";
import type { Message, Session } from "./types.js";

/** Format tag of an export document. */
export const EXPORT_FORMAT = "openclaw-sessions-export" as const;
/** Version of the export envelope. */
export const EXPORT_VERSION = 1 as const;

/** One exported session: the document without its storage revision, plus its pruned-history log. */
export type ExportedSession = Omit<Session, "revision"> & { prunedHistory: Message[] };

/** The versioned export document. */
export interface ExportEnvelope {
  format: typeof EXPORT_FORMAT;
  version: typeof EXPORT_VERSION;
  exportedAt: string;
  sessions: ExportedSession[];
}

const prunedSchema = z.array(messageSchema);

/** One exported session of any readable format, validated and upgraded to the current one. */
function parseExportedSession(value: unknown): { success: true; data: ExportedSession } | { success: false; path: string; message: string } {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return { success: false, path: "", message: "expected a session object" };
  const { prunedHistory, ...doc } = value as Record<string, unknown>;
  const parsed = parseStoredSession({ ...doc, revision: 0 });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { success: false, path: issue?.path.join(".") ?? "", message: issue?.message ?? "invalid" };
  }
  const pruned = prunedSchema.safeParse(prunedHistory);
  if (!pruned.success) {
    const issue = pruned.error.issues[0];
    return { success: false, path: ["prunedHistory", ...(issue?.path ?? [])].join("."), message: issue?.message ?? "invalid" };
  }
  const { revision: _revision, ...rest } = parsed.data;
  return { success: true, data: { ...rest, prunedHistory: pruned.data } };
}

/** Builds the exported form of a session; the revision is a storage detail and is left out so round trips are exact. */
export function toExported(session: Session, pruned: readonly Message[]): ExportedSession {
  const { revision: _revision, ...rest } = session;
  const active = new Set(session.messages.map((m) => m.id));
  // A crash between logging folded messages and saving the document can leave
  // a message in both places; the active copy wins.
  return { ...rest, prunedHistory: pruned.filter((m) => !active.has(m.id)) };
}

/** Parses and fully validates an export document; throws IMPORT_INVALID naming the first problem. */
export function parseExport(text: string, label: string): ExportEnvelope {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    const trimmed = text.trim();
    const why = trimmed === "" ? "the file is empty" : trimmed.startsWith("{") && !trimmed.endsWith("}") ? "the file is truncated" : "it is not valid JSON";
    throw new OpenclawError("IMPORT_INVALID", `${label}: cannot import: ${why}`);
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new OpenclawError("IMPORT_INVALID", `${label}: cannot import: expected an export object with "format": "${EXPORT_FORMAT}"`);
  }
  const obj = raw as Record<string, unknown>;
  if (obj.format !== EXPORT_FORMAT) {
    throw new OpenclawError("IMPORT_INVALID", `${label}: cannot import: "format" is ${JSON.stringify(obj.format) ?? "missing"}, expected "${EXPORT_FORMAT}"`);
  }
  if (obj.version !== EXPORT_VERSION) {
    throw new OpenclawError("IMPORT_INVALID", `${label}: cannot import: export version ${JSON.stringify(obj.version) ?? "missing"} is not supported (this version reads ${EXPORT_VERSION})`);
  }
  if (typeof obj.exportedAt !== "string" || !Array.isArray(obj.sessions)) {
    throw new OpenclawError("IMPORT_INVALID", `${label}: cannot import: expected "exportedAt" and a "sessions" array`);
  }
  const sessions: ExportedSession[] = [];
  const seen = new Set<string>();
  obj.sessions.forEach((s, i) => {
    const r = parseExportedSession(s);
    if (!r.success) throw new OpenclawError("IMPORT_INVALID", `${label}: cannot import: sessions[${i}].${r.path}: ${r.message}`);
    if (!isValidId(r.data.id)) throw new OpenclawError("IMPORT_INVALID", `${label}: cannot import: sessions[${i}].id ${JSON.stringify(r.data.id)} is not a valid session id`);
    try {
      parseKey(r.data.key);
    } catch (err) {
      throw new OpenclawError("IMPORT_INVALID", `${label}: cannot import: sessions[${i}].key: ${(err as Error).message}`);
    }
    if (seen.has(r.data.id)) throw new OpenclawError("IMPORT_INVALID", `${label}: cannot import: session ${r.data.id} appears twice`);
    seen.add(r.data.id);
    sessions.push(r.data);
  });
  return { format: EXPORT_FORMAT, version: EXPORT_VERSION, exportedAt: obj.exportedAt, sessions };
}
