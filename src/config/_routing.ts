import { z } from "zod";

// Kept beside schema.ts: how direct messages are grouped and whose identities
// are one person, with the cross-field checks that make a mistake one line.

/** The DM scopes, spelled here so config stays free of routing code (a test checks they match `DM_SCOPES`). */
export const DM_SCOPE_NAMES = ["per-channel-peer", "main", "per-peer", "per-account-channel-peer"] as const;

const SCOPE = `expected one of ${DM_SCOPE_NAMES.map((s) => JSON.stringify(s)).join(", ")}`;
const PERSON = "expected a person id of 1-128 characters from A-Z a-z 0-9 _ . @ + = -";
const IDENTITY = 'expected "channel:userId"';

/** `sessions.dmScope`: how direct messages are grouped into sessions. */
export const dmScope = z.enum(DM_SCOPE_NAMES, { error: SCOPE }).default("per-channel-peer");

/** Lower-cases the channel of a `channel:userId` identity: channels are case-insensitive, user ids are not. */
export function identityName(identity: string): string {
  const colon = identity.indexOf(":");
  return `${identity.slice(0, colon).toLowerCase()}${identity.slice(colon)}`;
}

/**
 * `sessions.identityLinks`: canonical person id → the channel identities
 * (`telegram:42`) that are that person. An identity belongs to one person at
 * most, or routing could not tell whose session a message goes to.
 */
export const identityLinks = z
  .record(z.string(), z.array(z.string({ error: IDENTITY }).regex(/^[^:\s]+:[^\s]+$/, { error: IDENTITY }), { error: 'expected an array of "channel:userId"' }), { error: "expected an object of person id → identities" })
  .superRefine((links, ctx) => {
    const owner = new Map<string, string>();
    for (const [person, identities] of Object.entries(links)) {
      // The person id becomes part of a routing key (dm:peer:<person>).
      if (!/^[A-Za-z0-9_.@+=-]{1,128}$/.test(person) || person === "." || person === "..") ctx.addIssue({ code: "custom", path: [person], input: person, message: PERSON });
      identities.forEach((identity, i) => {
        const name = identityName(identity);
        const first = owner.get(name);
        if (first !== undefined && first !== person) {
          ctx.addIssue({ code: "custom", path: [person, i], input: identity, message: `${identity} is already linked to ${first}: an identity belongs to one person` });
        } else if (first === person) {
          ctx.addIssue({ code: "custom", path: [person, i], input: identity, message: `${identity} is listed twice for ${person}` });
        }
        owner.set(name, person);
      });
    }
  })
  .default({});
