import type { Origin } from "./types.js";

/** A session's origin in one line: who or what it is with, and where ("Standup · slack", "Alice · telegram/support-bot"); "" when unknown. */
export function originText(origin: Origin | undefined): string {
  if (origin === undefined) return "";
  const who = origin.subject ?? origin.displayName;
  const where = origin.account !== undefined ? `${origin.channel}/${origin.account}` : origin.channel;
  return who !== undefined ? `${who} · ${where}` : where;
}

/** The texts of a session that name it for a person (label, sender display name, group subject), for search. */
export function namesOf(s: { label?: string | undefined; origin?: Origin | undefined }): Array<{ field: "label" | "displayName" | "subject"; value: string }> {
  const out: Array<{ field: "label" | "displayName" | "subject"; value: string }> = [];
  if (s.label !== undefined) out.push({ field: "label", value: s.label });
  if (s.origin?.displayName !== undefined) out.push({ field: "displayName", value: s.origin.displayName });
  if (s.origin?.subject !== undefined) out.push({ field: "subject", value: s.origin.subject });
  return out;
}
