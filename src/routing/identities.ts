import { OpenclawError } from "../errors.js";
import { assertId, assertSegment, channelName } from "../session/keys.js";
import type { IdentityLinks } from "./route.js";

// What `openclaw identities link|unlink` do to `sessions.identityLinks`, as
// pure functions: the command reads the config file, applies one, writes it.

/** A `channel:userId` identity as links hold it: checked, the channel lower-cased (user ids keep their case). */
export function identityOf(text: string): string {
  const colon = text.indexOf(":");
  if (colon <= 0 || colon === text.length - 1) throw new OpenclawError("INVALID_ARGUMENT", `invalid identity ${JSON.stringify(text.slice(0, 60))}: give it as channel:userId, e.g. telegram:42`);
  const channel = channelName(text.slice(0, colon));
  const user = assertId("user id", text.slice(colon + 1));
  return `${channel}:${user}`;
}

/** The person an identity is linked to, if any. */
export function ownerOf(links: IdentityLinks, identity: string): string | undefined {
  const wanted = identityOf(identity);
  for (const [person, identities] of Object.entries(links)) {
    if (identities.some((i) => sameIdentity(i, wanted))) return person;
  }
  return undefined;
}

function sameIdentity(a: string, b: string): boolean {
  const norm = (s: string) => s.replace(/^[^:]*/, (c) => c.toLowerCase());
  return norm(a) === norm(b);
}

/** Links identities to a person (created when new). An identity of another person is refused; one already linked to this person is left as is. */
export function linkIdentities(links: IdentityLinks, person: string, identities: readonly string[]): { links: IdentityLinks; added: string[] } {
  assertSegment("person id", person);
  const next: IdentityLinks = structuredClone(links);
  const own = next[person] ?? [];
  const added: string[] = [];
  for (const given of identities) {
    const identity = identityOf(given);
    const owner = ownerOf(next, identity);
    if (owner !== undefined && owner !== person) {
      throw new OpenclawError("ALREADY_EXISTS", `${identity} is already linked to ${owner}: an identity belongs to one person (openclaw identities unlink ${identity} first); nothing was changed`);
    }
    if (owner === person) continue;
    own.push(identity);
    added.push(identity);
  }
  next[person] = own;
  return { links: next, added };
}

/**
 * Unlinks identities (`channel:userId`) or whole people (a bare person id).
 * A person left with no identity is removed. Something not linked is
 * refused, so a typo is not taken for success.
 */
export function unlinkIdentities(links: IdentityLinks, targets: readonly string[]): { links: IdentityLinks; removed: Array<{ person: string; identity: string }> } {
  const next: IdentityLinks = structuredClone(links);
  const removed: Array<{ person: string; identity: string }> = [];
  for (const target of targets) {
    if (!target.includes(":")) {
      const identities = next[target];
      if (identities === undefined) throw new OpenclawError("NOT_FOUND", `no person ${JSON.stringify(target)} in sessions.identityLinks (openclaw identities list shows them); nothing was changed`);
      for (const identity of identities) removed.push({ person: target, identity });
      delete next[target];
      continue;
    }
    const identity = identityOf(target);
    const owner = ownerOf(next, identity);
    if (owner === undefined) throw new OpenclawError("NOT_FOUND", `${identity} is not linked to anyone (openclaw identities list shows the links); nothing was changed`);
    const left = (next[owner] ?? []).filter((i) => !sameIdentity(i, identity));
    removed.push({ person: owner, identity });
    if (left.length === 0) delete next[owner];
    else next[owner] = left;
  }
  return { links: next, removed };
}
