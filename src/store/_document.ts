import type { z } from "zod";
import { OpenclawError } from "../errors.js";
import { assertValidId } from "../session/ids.js";
import type { Message, Session, SessionSummary } from "../session/types.js";
import type { ChangeReason, HeaderChange } from "./store.js";
import { SESSION_FORMAT_VERSION } from "../session/types.js";
import { loadSchemas } from "../session/_schemas.js";
import { checkHeaderChange, checkStoredMessage, describeStoredIssues, type StoredIssue } from "../session/stored-check.js";

/** One short line describing the first validation problem, for warnings and errors. */
export function describeIssues(error: z.ZodError): string {
  return oneLine(describeStoredIssues(error.issues.map((i) => ({ path: i.path.map((k) => (typeof k === "symbol" ? String(k) : k)), message: i.message }))));
}

/** Collapses whitespace and shortens text so it fits in a one-line message. */
export function oneLine(text: string, max = 200): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max - 3)}...` : flat;
}

/**
 * Validates a document about to be saved at `revision` and returns a fresh
 * copy in schema key order (version, id, revision first), so a backend never
 * persists something its own reads would reject.
 */
export async function prepareDocument(session: Session, revision: number): Promise<Session> {
  assertValidId(session.id);
  const { sessionSchema } = await loadSchemas();
  const parsed = sessionSchema.safeParse({ ...session, version: SESSION_FORMAT_VERSION, revision });
  if (!parsed.success) {
    throw new OpenclawError("INVALID_ARGUMENT", `session ${session.id} is not a valid document (${describeIssues(parsed.error)}); it was not saved`, { userError: false });
  }
  return parsed.data;
}

/**
 * Validates an append's delta, its header change and its messages (never the
 * stored history), and returns fresh copies of both. The rules are the
 * persisted format's (session/stored-check.ts, held to the zod schemas by a
 * test), applied without zod: an append costs what came in, not a schema
 * walk per field.
 */
export function prepareAppend(id: string, header: HeaderChange, messages: readonly Message[]): { header: HeaderChange; messages: Message[] } {
  assertValidId(id);
  const checked = checkHeaderChange(header);
  if (!checked.success) {
    throw new OpenclawError("INVALID_ARGUMENT", `the header of an append to session ${id} is invalid (${issuesLine(checked.issues)}); nothing was written`, { userError: false });
  }
  return { header: copyHeader(checked.data), messages: prepareMessages(id, messages, "appended") };
}

/** Validates messages bound for a pruned-history log (or appended); returns fresh copies. */
export function prepareMessages(id: string, messages: readonly Message[], what: "pruned" | "appended" = "pruned"): Message[] {
  return messages.map((m, i) => {
    const checked = checkStoredMessage(m);
    if (!checked.success) {
      throw new OpenclawError("INVALID_ARGUMENT", `${what} message ${i} of session ${id} is invalid (${issuesLine(checked.issues)}); nothing was written`, { userError: false });
    }
    return copyMessage(checked.data);
  });
}

const issuesLine = (issues: readonly StoredIssue[]): string => oneLine(describeStoredIssues(issues));

/** A copy of a checked message that shares nothing mutable with the caller's (every nested object and array is new). */
function copyMessage(m: Message): Message {
  // Object.assign, not a spread: in V8 spread copies each get a hidden class of their own once frozen (see withAppendFields).
  const out: Message = Object.assign({}, m);
  if (m.toolCalls !== undefined) out.toolCalls = m.toolCalls.map((c) => Object.assign({}, c));
  if (m.usage !== undefined) out.usage = Object.assign({}, m.usage);
  return out;
}

/** A copy of a checked header change that shares nothing mutable with the caller's. */
function copyHeader(h: HeaderChange): HeaderChange {
  const context: Session["context"] = { ...h.context };
  if (h.context.foldedClientIds !== undefined) context.foldedClientIds = [...h.context.foldedClientIds];
  if (h.context.usage !== undefined) context.usage = { ...h.context.usage };
  return { ...h, participants: [...h.participants], context };
}

/** The CONFLICT error for a save whose base revision is not the stored one. */
export function conflictError(id: string, stored: number | null, expected: number | null): OpenclawError {
  const what =
    expected === null
      ? `session ${id} already exists (revision ${String(stored)})`
      : stored === null
        ? `session ${id} no longer exists (expected revision ${expected})`
        : `session ${id} changed since it was read (stored revision ${stored}, expected ${expected})`;
  return new OpenclawError("CONFLICT", `${what}; reload it and retry`);
}

/**
 * The pruned log after appending `added`: an id already logged keeps its
 * first copy, so re-logging a fold after a crash never duplicates history.
 */
export function appendUnique(log: readonly Message[], added: readonly Message[]): Message[] {
  const seen = new Set(log.map((m) => m.id));
  const out = [...log];
  for (const m of added) {
    if (seen.has(m.id)) continue;
    seen.add(m.id);
    out.push(m);
  }
  return out;
}

/** CLOSED error for a call on a closed store. */
export function closedError(kind: string): OpenclawError {
  return new OpenclawError("CLOSED", `the ${kind} store is closed; open it again to use it`, { userError: false });
}

/**
 * The reason a change most likely had, judged from the summaries alone: used
 * when a commit named none, or when the record that named it is gone (a
 * journal folded into a snapshot, a repair, an older writer).
 */
export function inferReason(before: Pick<SessionSummary, "status" | "messageCount"> | undefined, after: Pick<SessionSummary, "status" | "messageCount"> | undefined): ChangeReason {
  if (after === undefined) return "deleted";
  if (before === undefined) return "created";
  if (after.status !== before.status) {
    if (after.status === "archived") return "archived";
    if (before.status === "archived") return "unarchived";
    if (after.status === "expired") return "expired";
  }
  return after.messageCount > before.messageCount ? "appended" : "edited";
}
