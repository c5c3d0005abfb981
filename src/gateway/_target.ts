import type { Context } from "hono";
import type { Inbound } from "../routing/route.js";
import { parseKey, peerOfKey } from "../session/keys.js";
import { credentialOf, forbidden } from "./_auth.js";
import { hasScope } from "./_credential.js";
import { badRequest } from "./_http.js";

/** How a gateway request names its session: an id or id prefix (`via`: the inbound address it was routed from), a routing key (found or created), or an inbound address (routed). */
export type SessionTarget = { ref: string; via?: Inbound } | { key: string } | { inbound: Inbound };

/** Headers that name the session of an OpenAI-compatible request. */
export const SESSION_HEADERS = {
  key: "x-openclaw-session-key",
  channel: "x-openclaw-channel",
  sender: "x-openclaw-sender",
  group: "x-openclaw-group",
  thread: "x-openclaw-thread",
  account: "x-openclaw-account",
  displayName: "x-openclaw-display-name",
  subject: "x-openclaw-subject",
} as const;

/**
 * The session a request names: a routing key (`x-openclaw-session-key`), or
 * an inbound address (channel + sender, optionally group and thread) routed
 * like any inbound message. Undefined when none is given: the request is
 * stateless. Isolated keys are refused: they name one-off sessions that a
 * client cannot address by key. Naming a session at all needs the `route`
 * scope: it reaches any user's session, so only the trusted router may.
 */
export function targetOf(c: Context): { target: SessionTarget | undefined; sender: string | null } {
  const named = namedTarget(c);
  const credential = credentialOf(c);
  if (named.target !== undefined && !hasScope(credential, "route")) {
    const how = "key" in named.target ? SESSION_HEADERS.key : `${SESSION_HEADERS.channel} + ${SESSION_HEADERS.sender}`;
    throw forbidden(credential, `naming a session by ${how} needs the route scope (a chat credential uses the conversations and responses it created)`);
  }
  return named;
}

function namedTarget(c: Context): { target: SessionTarget | undefined; sender: string | null } {
  const h = (name: string): string | undefined => {
    const v = c.req.header(name);
    return v === undefined || v === "" ? undefined : v;
  };
  const key = h(SESSION_HEADERS.key);
  const channel = h(SESSION_HEADERS.channel);
  const sender = h(SESSION_HEADERS.sender);
  const group = h(SESSION_HEADERS.group);
  const thread = h(SESSION_HEADERS.thread);
  const account = h(SESSION_HEADERS.account);
  // Display names and subjects may hold any text; a header carries it percent-encoded (UTF-8).
  const displayName = decoded(SESSION_HEADERS.displayName, h(SESSION_HEADERS.displayName));
  const subject = decoded(SESSION_HEADERS.subject, h(SESSION_HEADERS.subject));
  if (key !== undefined) {
    if (channel !== undefined || group !== undefined || thread !== undefined || account !== undefined) {
      throw badRequest(`give either ${SESSION_HEADERS.key} or ${SESSION_HEADERS.channel} + ${SESSION_HEADERS.sender}, not both`);
    }
    const parsed = parseKey(key);
    if (parsed.kind === "isolated") throw badRequest(`${SESSION_HEADERS.key}: isolated keys are reserved for one-off sessions; use a dm:… or group:… key`);
    const implied = peerOfKey(parsed);
    return { target: { key }, sender: sender ?? implied };
  }
  if (channel === undefined && sender === undefined && group === undefined && thread === undefined && account === undefined) return { target: undefined, sender: null };
  if (channel === undefined || sender === undefined) throw badRequest(`${SESSION_HEADERS.channel} and ${SESSION_HEADERS.sender} go together`);
  const optional = { groupId: group, threadId: thread, accountId: account, displayName, subject };
  const inbound: Inbound = { channel, senderId: sender };
  for (const [name, value] of Object.entries(optional)) if (value !== undefined) Object.assign(inbound, { [name]: value });
  return { target: { inbound }, sender };
}

function decoded(header: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  try {
    return decodeURIComponent(value);
  } catch {
    throw badRequest(`${header}: not valid percent-encoded UTF-8`);
  }
}
