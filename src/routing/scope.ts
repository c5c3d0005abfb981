import { parseKey, scopeOfKey, threadKey, type DmScope, type ParsedKey } from "../session/keys.js";
import type { Origin } from "../session/types.js";
import { DEFAULT_ACCOUNT, dmKeyFor, linkedPerson, type IdentityLinks } from "./route.js";

// A DM key says who it is for only as far as its scope keeps: dm:main keeps
// nobody, dm:peer:<id> no channel. What a key lacks may come from the
// session's origin (the channel and account its messages came in on).

/** Who a DM key is for, as far as it (and the session's origin) says. */
interface Addressee {
  channel?: string;
  account?: string;
  sender?: string;
  /** The linked person, when the key or the links name one. */
  person?: string;
}

function addresseeOf(parsed: ParsedKey, links: IdentityLinks, origin: Origin | undefined): Addressee {
  const from: Addressee = {
    ...(origin !== undefined ? { channel: origin.channel } : {}),
    ...(origin?.account !== undefined ? { account: origin.account } : {}),
  };
  const isPerson = (id: string) => Object.hasOwn(links, id);
  switch (scopeOfKey(parsed)) {
    case "main":
      return from;
    case "per-peer":
      return isPerson(parsed.subject) ? { ...from, person: parsed.subject } : withLink({ ...from, sender: parsed.subject }, links);
    default: {
      const account = parsed.account ?? from.account;
      const withAccount = account !== undefined ? { account } : {};
      // A linked key whose person is no longer linked names nobody routing could reach.
      if (parsed.channel === "linked") return isPerson(parsed.subject) ? { ...from, ...withAccount, person: parsed.subject } : { ...withAccount };
      return withLink({ channel: parsed.channel, ...withAccount, sender: parsed.subject }, links);
    }
  }
}

function withLink(a: Addressee, links: IdentityLinks): Addressee {
  if (a.channel === undefined || a.sender === undefined) return a;
  const person = linkedPerson(links, a.channel, a.sender);
  return person === undefined ? a : { ...a, person };
}

/**
 * The key a DM session's messages would route to under `scope` and the
 * current identity links; null when the key and origin do not say enough
 * (dm:main names no person; dm:peer:<id> no channel unless the origin
 * does). Group and isolated keys are returned unchanged.
 */
export function keyUnderScope(key: string, scope: DmScope, links: IdentityLinks, origin?: Origin): string | null {
  const parsed = parseKey(key);
  if (parsed.kind !== "dm") return key;
  const a = addresseeOf(parsed, links, origin);
  let base: string | null;
  if (scope === "main") base = dmKeyFor("main", "", "", "", undefined);
  else if (a.person !== undefined) base = dmKeyFor(scope, a.channel ?? "linked", a.person, a.account ?? DEFAULT_ACCOUNT, a.person);
  else if (a.sender === undefined || (scope !== "per-peer" && a.channel === undefined)) base = null;
  else base = dmKeyFor(scope, a.channel ?? "", a.sender, a.account ?? DEFAULT_ACCOUNT, undefined);
  return base === null || parsed.thread === null ? base : threadKey(base, parsed.thread);
}

/**
 * True when a key is what routing makes now: a group or isolated key, or a
 * DM key of the configured scope that the identity links do not send
 * elsewhere. Decided from the key alone, so a list of keys is enough.
 */
export function keyMatchesScope(key: string, scope: DmScope, links: IdentityLinks): boolean {
  const parsed = parseKey(key);
  if (parsed.kind !== "dm") return true;
  if (scopeOfKey(parsed) !== scope) return false;
  const expected = keyUnderScope(key, scope, links);
  // null: a linked key whose person was unlinked; no message routes there any more.
  return expected === key;
}
