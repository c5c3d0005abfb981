import { OpenclawError } from "../errors.js";
import { accountDmKey, assertId, channelName, dmKey, groupKey, hookKey, isolatedKey, jobKey, MAIN_DM_KEY, peerKey, RESERVED_DM_CHANNELS, threadKey, type DmScope } from "../session/keys.js";
import type { SessionKind } from "../session/types.js";

/** An inbound message's addressing, as a channel adapter reports it. */
export interface Inbound {
  channel: string;
  senderId: string;
  /** Set for group conversations; absent for DMs. */
  groupId?: string;
  /** Set when the message belongs to a thread inside the DM or group. */
  threadId?: string;
  /** Set to start an isolated session for a specialised task; never shared. */
  isolated?: string;
  /** Set for a webhook: the hook's own session (one per hook name, apart from every conversation). */
  hook?: string;
  /** Set for a job run: a fresh session per run (`run`, or a new id when absent). */
  job?: { name: string; run?: string | undefined };
  /** The bot account that received the message (several bots on one channel); "default" when absent. */
  accountId?: string;
  /** The sender's display name, as the channel shows it (kept in the session's origin). */
  displayName?: string;
  /** The group's subject or title, as the channel shows it (kept in the session's origin). */
  subject?: string;
}

/** The bot account a message without one is counted under. */
export const DEFAULT_ACCOUNT = "default";

/** Where a message goes: a routing key, and whether a new session must be created regardless. */
export interface RouteTarget {
  key: string;
  kind: SessionKind;
  channel: string;
  /** Isolated sessions are always new. */
  alwaysNew: boolean;
}

/** Canonical person id → identities (`channel:userId`), from `sessions.identityLinks`. */
export type IdentityLinks = Record<string, string[]>;

/** Finds the canonical person an identity is linked to, if any. */
export function linkedPerson(links: IdentityLinks, channel: string, userId: string): string | undefined {
  // Channel names are case-insensitive, user ids are not.
  const wanted = `${channel.toLowerCase()}:${userId}`;
  for (const [person, identities] of Object.entries(links)) {
    if (identities.some((identity) => identity.replace(/^[^:]*/, (c) => c.toLowerCase()) === wanted)) return person;
  }
  return undefined;
}

/**
 * The key of a DM under a scope: one shared session ("main"), one per person
 * across channels ("per-peer"), per channel and person (the default), or per
 * bot account, channel and person. A linked identity stands for its person:
 * across channels, with the "linked" pseudo-channel where the scope names one.
 */
export function dmKeyFor(scope: DmScope, channel: string, senderId: string, account: string, person: string | undefined): string {
  switch (scope) {
    case "main":
      return MAIN_DM_KEY;
    case "per-peer":
      return peerKey(person ?? senderId);
    case "per-account-channel-peer":
      return person !== undefined ? accountDmKey("linked", account, person) : accountDmKey(channel, account, senderId);
    default:
      return person !== undefined ? dmKey("linked", person) : dmKey(channel, senderId);
  }
}

/**
 * Decides the routing key of an inbound message. Pure: `newId` supplies the
 * unique part of an isolated key. DMs follow the scope (per user per channel
 * by default) and the operator's identity links; groups are shared; threads
 * get their own key under their parent's.
 */
export function routeTarget(inbound: Inbound, links: IdentityLinks, newId: () => string, scope: DmScope = "per-channel-peer"): RouteTarget {
  const channel = channelName(inbound.channel);
  assertId("sender id", inbound.senderId);
  if (inbound.accountId !== undefined) assertId("account id", inbound.accountId);
  for (const [what, text] of [
    ["display name", inbound.displayName],
    ["subject", inbound.subject],
  ] as const) {
    // Shown in lists and terminals: no control characters, and short.
    if (text !== undefined && (text.length === 0 || text.length > 256 || /\p{Cc}/u.test(text))) {
      throw new OpenclawError("INVALID_ARGUMENT", `invalid ${what} ${JSON.stringify(text.slice(0, 40))}: use 1-256 characters, no control characters`);
    }
  }
  const task = [inbound.isolated !== undefined && "isolated", inbound.hook !== undefined && "hook", inbound.job !== undefined && "job"].filter((x) => x !== false);
  if (task.length > 1) throw new OpenclawError("INVALID_ARGUMENT", `give one of ${task.join(", ")}: a message goes to one session`);
  if (task.length === 1 && (inbound.groupId !== undefined || inbound.threadId !== undefined)) {
    throw new OpenclawError("INVALID_ARGUMENT", `a ${task[0]} session cannot also be a group or thread session: give either ${task[0]} or groupId/threadId`);
  }
  if (inbound.hook !== undefined) return { key: hookKey(inbound.hook), kind: "isolated", channel: "hook", alwaysNew: false };
  if (inbound.job !== undefined) {
    const run = inbound.job.run;
    return { key: jobKey(inbound.job.name, run ?? newId()), kind: "isolated", channel: "job", alwaysNew: run === undefined };
  }
  if (inbound.isolated !== undefined) {
    if (inbound.groupId !== undefined) {
      throw new OpenclawError("INVALID_ARGUMENT", "an isolated session cannot also be a group session: give either isolated or groupId");
    }
    return { key: isolatedKey(inbound.isolated, newId()), kind: "isolated", channel, alwaysNew: true };
  }
  let key: string;
  let kind: SessionKind;
  if (inbound.groupId !== undefined) {
    key = groupKey(channel, inbound.groupId);
    kind = "group";
  } else {
    if (RESERVED_DM_CHANNELS.includes(channel)) {
      throw new OpenclawError("INVALID_KEY", `channel name ${JSON.stringify(channel)} is reserved for DM keys across channels (dm:main, dm:peer:…, dm:linked:…): name the channel otherwise`);
    }
    // Linked identities share one key across channels; the reserved pseudo-channels
    // keep such keys from ever colliding with a real channel's DM key.
    const person = linkedPerson(links, channel, inbound.senderId);
    key = dmKeyFor(scope, channel, inbound.senderId, inbound.accountId ?? DEFAULT_ACCOUNT, person);
    kind = "dm";
  }
  if (inbound.threadId !== undefined) key = threadKey(key, inbound.threadId);
  return { key, kind, channel, alwaysNew: false };
}
