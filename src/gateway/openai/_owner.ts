import { isolatedKey, parseKey } from "../../session/keys.js";
import type { Session } from "../../session/types.js";
import { hasScope, type Credential } from "../_credential.js";

// Who may open which session through /v1. A session that /v1 creates (a
// conversation, or the session behind a stored response) has an isolated key
// ending in `@<credential name>`: the store keeps its owner, so every gateway
// sharing the store and the config agrees on it, and no id needs a secret.
// A `chat` credential opens only the sessions it created; `route` names any
// session (it is the trusted bot router), and an admin scope any session too
// (admin:read to read, admin:write to change), as the admin API would.

/** The isolated task names of sessions /v1 creates. */
export type OwnedKind = "conversation" | "response";

/** The key of a session /v1 creates for `credential`; `id` makes it unique. */
export function ownedKey(kind: OwnedKind, id: string, credential: Credential): string {
  return isolatedKey(kind, `${id}@${credential.name}`);
}

/** What a session's key says of a session /v1 created: which kind, and the credential that created it; undefined for any other session. */
export function ownedBy(key: string): { kind: OwnedKind; owner: string } | undefined {
  let parsed;
  try {
    parsed = parseKey(key);
  } catch {
    return undefined;
  }
  if (parsed.kind !== "isolated" || parsed.thread !== null || (parsed.channel !== "conversation" && parsed.channel !== "response")) return undefined;
  const at = parsed.subject.lastIndexOf("@");
  return at < 0 ? undefined : { kind: parsed.channel, owner: parsed.subject.slice(at + 1) };
}

/** The credential name a session's key records as its creator through /v1, or undefined for any other session. */
export function ownerOf(key: string): string | undefined {
  return ownedBy(key)?.owner;
}

/** True when `credential` may open `session` through /v1, to read or (`write`) to change or continue it. */
export function mayOpen(credential: Credential, session: Pick<Session, "key">, write: boolean): boolean {
  if (hasScope(credential, "route") || hasScope(credential, write ? "admin:write" : "admin:read")) return true;
  return ownerOf(session.key) === credential.name;
}
