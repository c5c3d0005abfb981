import { OpenclawError } from "../errors.js";
import { sessionTokens } from "./derived.js";
export { sessionTokens } from "./derived.js";
import { usageTotals, type Session, type SessionStatus, type SessionSummary } from "./types.js";

/** The instant before which a created/active session counts as expired; null when nothing expires. */
export function expiryCutoff(expirationMs: number, now: Date): string | null {
  if (expirationMs <= 0) return null;
  return new Date(now.getTime() - expirationMs).toISOString();
}

/**
 * Status as seen at `cutoff`: expiry is evaluated on read, so a stored
 * `active` session whose last activity is older than the cutoff is expired.
 */
export function effectiveStatus(s: Pick<SessionSummary, "status" | "lastActivityAt">, cutoff: string | null): SessionStatus {
  if ((s.status === "active" || s.status === "created") && cutoff !== null && Date.parse(s.lastActivityAt) < Date.parse(cutoff)) {
    return "expired";
  }
  return s.status;
}

/** Returns the session with its status evaluated at `now` (marks it expired when due; pure). */
export function evaluateExpiry(session: Session, expirationMs: number, now: Date): Session {
  const status = effectiveStatus(session, expiryCutoff(expirationMs, now));
  if (status === session.status) return session;
  const expiredAt = new Date(Date.parse(session.lastActivityAt) + expirationMs).toISOString();
  return { ...session, status, expiredAt };
}

/** Throws SESSION_ARCHIVED when the session is archived: an archived session is read-only (unarchive, delete and export aside). */
export function assertNotArchived(session: Pick<Session, "id" | "status">): void {
  if (session.status === "archived") {
    throw new OpenclawError("SESSION_ARCHIVED", `session ${session.id} is archived and read-only: run "openclaw sessions unarchive ${session.id}" first`);
  }
}

/** Throws SESSION_EXPIRED or SESSION_ARCHIVED unless the session can take a new message at `now`. */
export function assertWritable(session: Session, expirationMs: number, now: Date): void {
  const status = evaluateExpiry(session, expirationMs, now).status;
  assertNotArchived({ id: session.id, status });
  if (status === "expired") {
    throw new OpenclawError("SESSION_EXPIRED", `session ${session.id} has expired and takes no new messages: the next message for ${session.key} starts a new session`);
  }
}

/** created → active on the first message; records the activity time. */
export function markActivity(session: Session, now: Date): Session {
  return { ...session, ...activityOf(session, now) };
}

/** The fields {@link markActivity} changes, for a caller that builds the new document in one copy. */
export function activityOf(session: Pick<Session, "status">, now: Date): Pick<Session, "status" | "lastActivityAt" | "updatedAt"> {
  const at = now.toISOString();
  return { status: session.status === "created" ? "active" : session.status, lastActivityAt: at, updatedAt: at };
}

/** active/expired/created → archived (read-only). Archiving an archived session is refused. */
export function archive(session: Session, now: Date): Session {
  if (session.status === "archived") {
    throw new OpenclawError("INVALID_ARGUMENT", `session ${session.id} is already archived`);
  }
  const at = now.toISOString();
  return { ...session, status: "archived", archivedAt: at, updatedAt: at };
}

/**
 * archived → active (or expired, when its activity is older than the expiry
 * window, so unarchiving never revives a stale conversation silently).
 */
export function unarchive(session: Session, expirationMs: number, now: Date): Session {
  if (session.status !== "archived") {
    throw new OpenclawError("INVALID_ARGUMENT", `session ${session.id} is not archived (status: ${session.status})`);
  }
  const at = now.toISOString();
  const base: Session = {
    ...session,
    status: session.lastActivityAt === session.createdAt && session.messages.length === 0 && session.summary === null ? "created" : "active",
    archivedAt: null,
    expiredAt: null,
    updatedAt: at,
  };
  return evaluateExpiry(base, expirationMs, now);
}

/** True when an expired session has been expired for longer than `archiveAfterMs` (policy archive). */
export function dueForArchive(session: Pick<Session, "status" | "lastActivityAt">, expirationMs: number, archiveAfterMs: number, now: Date): boolean {
  if (expirationMs <= 0 || archiveAfterMs < 0) return false;
  if (session.status === "archived") return false;
  const expiredAt = Date.parse(session.lastActivityAt) + expirationMs;
  return now.getTime() > expiredAt + archiveAfterMs;
}

/** The index entry of a session. */
export function toSummary(session: Session, sizeBytes: number): SessionSummary {
  return {
    id: session.id,
    key: session.key,
    kind: session.kind,
    channel: session.channel,
    status: session.status,
    messageCount: session.messages.length,
    tokens: sessionTokens(session),
    createdAt: session.createdAt,
    updatedAt: session.updatedAt,
    lastActivityAt: session.lastActivityAt,
    expiredAt: session.expiredAt,
    archivedAt: session.archivedAt,
    revision: session.revision,
    sizeBytes,
    ...(session.context.usage !== undefined ? { usage: usageTotals(session.context.usage) } : {}),
    ...(session.label !== undefined ? { label: session.label } : {}),
    ...(session.origin !== undefined ? { origin: session.origin } : {}),
  };
}
