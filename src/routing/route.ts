import { OpenclawError } from "../errors.js";
import { assertSegment, channelName, dmKey, groupKey, hookKey, isolatedKey, jobKey, threadKey } from "../session/keys.js";
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
}

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
 * Decides the routing key of an inbound message. Pure: `newId` supplies the
 * unique part of an isolated key. DMs are per user per channel unless the
 * operator linked identities; groups are shared; threads get their own key.
 */
export function routeTarget(inbound: Inbound, links: IdentityLinks, newId: () => string): RouteTarget {
  const channel = channelName(inbound.channel);
  assertSegment("sender id", inbound.senderId);
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
    const person = linkedPerson(links, channel, inbound.senderId);
    // Linked identities share one key across channels; the "linked" pseudo-channel
    // keeps it from ever colliding with a real channel's DM key.
    key = person !== undefined ? dmKey("linked", person) : dmKey(channel, inbound.senderId);
    kind = "dm";
  }
  if (inbound.threadId !== undefined) key = threadKey(key, inbound.threadId);
  return { key, kind, channel, alwaysNew: false };
}
