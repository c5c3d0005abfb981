import { mkdirSync } from "node:fs";
import { OpenclawError } from "../errors.js";
import { describe, isIdPrefix, isShortRef, isValidId, shortRef } from "../session/ids.js";
import { looksLikeKey, normalizeKey } from "../session/keys.js";
import type { SessionSummary } from "../session/types.js";
import type { SessionStore } from "../store/store.js";

/** NOT_FOUND error for a reference, worded as the CLI shows it. */
export function notFound(ref: string): OpenclawError {
  return new OpenclawError("NOT_FOUND", `no session matches ${JSON.stringify(ref)}`);
}

/**
 * Resolves a reference — full id, short ref (the id's last 12 hex digits),
 * unique id prefix (≥ 6 characters), `isolated:<name>` (the one isolated
 * session of that task) or routing key (newest session with that key) — to
 * a session id.
 */
export async function resolveRef(store: SessionStore, ref: string, cutoff: string | null): Promise<string> {
  if (typeof ref !== "string" || ref.length === 0) throw new OpenclawError("INVALID_ARGUMENT", "a session reference is required: an id, an id prefix or a routing key");
  const task = /^isolated:([^:]+)$/.exec(ref)?.[1];
  if (task !== undefined) {
    const hits = (await store.list({ kinds: ["isolated"], expiryCutoff: cutoff })).items.filter((s) => s.key.startsWith(`isolated:${task}:`));
    return single(ref, hits, "isolated sessions have that name; use one's id or short ref");
  }
  if (isShortRef(ref)) {
    const lower = ref.toLowerCase();
    return single(
      ref,
      (await store.list({ expiryCutoff: cutoff })).items.filter((s) => shortRef(s.id) === lower),
      "sessions share that short ref; use the full id",
    );
  }
  if (looksLikeKey(ref)) {
    const page = await store.list({ key: normalizeKey(ref), limit: 1, expiryCutoff: cutoff });
    const hit = page.items[0];
    if (hit === undefined) throw notFound(ref);
    return hit.id;
  }
  if (isValidId(ref)) return ref;
  const lower = ref.toLowerCase();
  // A plain word that cannot be an id simply matches nothing; anything with
  // path or control characters is refused as hostile.
  if (!isIdPrefix(lower) && /^[A-Za-z0-9_.@+=-]{1,128}$/.test(ref) && !ref.includes("..")) throw notFound(ref);
  if (!isIdPrefix(lower)) {
    throw new OpenclawError("INVALID_ID", `invalid session reference ${describe(ref)}: expected an id, an id prefix of at least 6 characters, or a routing key such as dm:telegram:42`);
  }
  if (lower.length < 6) throw new OpenclawError("INVALID_ARGUMENT", `session id prefix ${describe(ref)} is too short: give at least 6 characters`);
  // Six shown at most, so asking for one more than that tells "ambiguous" without listing every match.
  const matches = await store.findByIdPrefix(lower, 6);
  if (matches.length === 0) throw notFound(ref);
  if (matches.length > 1) {
    const shown = matches
      .slice(0, 5)
      .map((s) => `${s.id} (${s.key})`)
      .join(", ");
    const count = matches.length > 5 ? "more than 5" : String(matches.length);
    throw new OpenclawError("AMBIGUOUS_REF", `session prefix "${ref}" is ambiguous: ${count} sessions match: ${shown}${matches.length > 5 ? ", ..." : ""}; give more characters`);
  }
  return (matches[0] as SessionSummary).id;
}

// The one match, or NOT_FOUND / AMBIGUOUS_REF naming the candidates.
function single(ref: string, hits: readonly SessionSummary[], why: string): string {
  const [first] = hits;
  if (first === undefined) throw notFound(ref);
  if (hits.length > 1) {
    const shown = hits
      .slice(0, 5)
      .map((s) => `${s.id} (${s.key})`)
      .join(", ");
    throw new OpenclawError("AMBIGUOUS_REF", `${JSON.stringify(ref)} is ambiguous: ${hits.length} ${why}: ${shown}${hits.length > 5 ? ", ..." : ""}`);
  }
  return first.id;
}

/** Throws INVALID_ARGUMENT unless `key` is a safe preference name. */
export function assertPrefKey(key: string): void {
  if (typeof key !== "string" || !/^[A-Za-z0-9_.-]{1,128}$/.test(key)) {
    throw new OpenclawError("INVALID_ARGUMENT", `invalid preference key ${describe(key)}: use 1-128 characters from A-Z a-z 0-9 _ . -`);
  }
}

/** Throws INVALID_ARGUMENT unless `p` is a tool-name pattern. */
export function assertToolPattern(p: string): void {
  if (typeof p !== "string" || !/^[A-Za-z0-9_.*:/-]{1,256}$/.test(p)) {
    throw new OpenclawError("INVALID_ARGUMENT", `invalid tool pattern ${describe(p)}: use tool names with * wildcards, e.g. fs.* or web_search`);
  }
}

/** Creates the state directory (0700) if needed. */
export function ensureDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new OpenclawError("STORAGE", `cannot create state directory ${dir}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
  }
}
