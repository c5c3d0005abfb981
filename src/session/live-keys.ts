import { OpenclawError } from "../errors.js";
import type { SessionStatus } from "./types.js";

/** A session as the one-live-session-per-key rule sees it; `status` is the effective one (expiry evaluated). */
export interface LiveCandidate {
  id: string;
  key: string;
  status: SessionStatus;
  lastActivityAt: string;
}

/** An incoming live session whose key already has another live session: a stored one, or another incoming one. */
export interface LiveClash {
  incoming: string;
  key: string;
  /** The session that is live for the key. */
  live: string;
  /** True when `live` is itself incoming (the more recently active of two incoming live sessions of one key). */
  liveIsIncoming: boolean;
}

/** How an import or copy settles a clash: refuse, store the incoming one archived, or archive the stored live one. */
export type ClashPolicy = "refuse" | "as-archived" | "replace-live";

const isLive = (s: Pick<LiveCandidate, "status">): boolean => s.status === "created" || s.status === "active";

/** Most recently active first; ties: the newest id. */
export const newestFirst = (a: LiveCandidate, b: LiveCandidate): number => b.lastActivityAt.localeCompare(a.lastActivityAt) || b.id.localeCompare(a.id);

/**
 * The incoming sessions that would give a key a second live session. Of
 * several incoming live sessions of one key, the most recently active is
 * the key's candidate and each other clashes with it; the candidate clashes
 * with a live stored session of another id. A stored session that an
 * incoming one of the same id replaces is left out: its stored state goes.
 */
export function liveClashes(incoming: readonly LiveCandidate[], stored: readonly LiveCandidate[]): LiveClash[] {
  const replaced = new Set(incoming.map((s) => s.id));
  const storedLive = new Map<string, LiveCandidate>();
  for (const s of [...stored].filter((x) => isLive(x) && !replaced.has(x.id)).sort(newestFirst)) if (!storedLive.has(s.key)) storedLive.set(s.key, s);
  const byKey = new Map<string, LiveCandidate[]>();
  for (const s of incoming) if (isLive(s)) byKey.set(s.key, [...(byKey.get(s.key) ?? []), s]);
  const clashes: LiveClash[] = [];
  for (const [key, group] of byKey) {
    const [first, ...rest] = [...group].sort(newestFirst);
    if (first === undefined) continue;
    const other = storedLive.get(key);
    if (other !== undefined) clashes.push({ incoming: first.id, key, live: other.id, liveIsIncoming: false });
    for (const s of rest) clashes.push({ incoming: s.id, key, live: first.id, liveIsIncoming: true });
  }
  return clashes;
}

/** The refusal of an import or copy (`verb`) that would give a key a second live session, naming both sessions and the key. */
export function clashError(verb: "import" | "copy", clashes: readonly LiveClash[]): OpenclawError {
  const [c] = clashes;
  if (c === undefined) throw new Error("clashError needs a clash");
  const where = c.liveIsIncoming ? `session ${c.live}, also in the ${verb === "import" ? "import" : "source"}, is live for ${c.key} too` : `session ${c.live} is already live for ${c.key}`;
  const more = clashes.length > 1 ? ` (and ${clashes.length - 1} more key clash${clashes.length > 2 ? "es" : ""})` : "";
  return new OpenclawError(
    "ALREADY_EXISTS",
    `cannot ${verb} ${c.incoming}: ${where}${more}; a key has at most one live session: use --as-archived to ${verb} it archived, or --replace-live to archive ${c.live} and ${verb} ${c.incoming} as live; nothing was written`,
  );
}

/** Refuses two clash policies at once. */
export function clashPolicy(flags: { asArchived?: boolean; replaceLive?: boolean }): ClashPolicy {
  if (flags.asArchived === true && flags.replaceLive === true) throw new OpenclawError("INVALID_ARGUMENT", "--as-archived and --replace-live exclude each other: pick one");
  return flags.asArchived === true ? "as-archived" : flags.replaceLive === true ? "replace-live" : "refuse";
}
