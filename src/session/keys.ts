import { OpenclawError } from "../errors.js";
import { describe } from "./ids.js";
import type { SessionKind } from "./types.js";

// Segments end up in keys shown to operators and matched exactly; keeping them
// to a conservative alphabet means a key can never smuggle separators,
// whitespace, control characters or path syntax.
const SEGMENT_RE = /^[A-Za-z0-9_.@+=-]{1,128}$/;
// Peer ids (users, groups, threads, accounts) come from chat platforms whose ids
// hold ':', '!', '/', '#' or '~' (Matrix `@alice:matrix.org`, Teams `29:1abc`,
// web `user/1`). '%' stays out so the escape of ':' inside a key is reversible,
// and a '.' or '..' path part stays out so no id ever reads as a path.
const ID_RE = /^[A-Za-z0-9_.@+=:!/#~-]{1,128}$/;
// An id inside a key: ':' separates a key's parts, so it is written %3A there.
const KEY_ID_RE = /^(?:[A-Za-z0-9_.@+=!/#~-]|%3A)+$/;
const MAX_KEY_LENGTH = 2048;

/** The characters a peer id (user, group, thread or account id) may hold, as error messages and docs name them. */
export const ID_ALPHABET = "A-Z a-z 0-9 _ . @ + = - : ! / # ~";

function isId(value: unknown): value is string {
  return typeof value === "string" && ID_RE.test(value) && !value.split("/").some((p) => p === "." || p === "..");
}

/** Throws INVALID_KEY unless `value` is a valid peer id: a user, group, thread or account id as chat platforms give them. */
export function assertId(what: string, value: unknown): string {
  if (!isId(value)) {
    throw new OpenclawError("INVALID_KEY", `invalid ${what} ${describe(value)}: use 1-128 characters from ${ID_ALPHABET}, with no "." or ".." path part`);
  }
  return value;
}

/** A peer id as a key holds it: ':' written %3A, so the key's parts stay apart. */
function keyId(what: string, value: unknown): string {
  return assertId(what, value).replaceAll(":", "%3A");
}

/** The peer id a key part holds, or undefined when the part is not one. */
function idOfKeyPart(part: string): string | undefined {
  if (!KEY_ID_RE.test(part)) return undefined;
  const id = part.replaceAll("%3A", ":");
  return isId(id) ? id : undefined;
}

/** Throws INVALID_KEY unless `value` is a valid key segment (channel, user, group, thread or task name). */
export function assertSegment(what: string, value: unknown): string {
  if (typeof value !== "string" || !SEGMENT_RE.test(value) || value === "." || value === "..") {
    throw new OpenclawError("INVALID_KEY", `invalid ${what} ${describe(value)}: use 1-128 characters from A-Z a-z 0-9 _ . @ + = -`);
  }
  return value;
}

/** A channel name as keys hold it: validated and lower-cased, since `Telegram` and `telegram` are one channel. */
export function channelName(value: unknown): string {
  return assertSegment("channel", value).toLowerCase();
}

/** Routing key of a direct-message session: one per user per channel. */
export function dmKey(channel: string, userId: string): string {
  return `dm:${channelName(channel)}:${keyId("user id", userId)}`;
}

/** How direct messages are grouped into sessions (`sessions.dmScope`). */
export type DmScope = "main" | "per-peer" | "per-channel-peer" | "per-account-channel-peer";

/** Every DM scope, the default first. */
export const DM_SCOPES: readonly DmScope[] = ["per-channel-peer", "main", "per-peer", "per-account-channel-peer"];

/**
 * Words a DM key holds where a channel name would be, so no real channel
 * may take them: `dm:main`, `dm:peer:<id>`, `dm:linked:<person>`.
 */
export const RESERVED_DM_CHANNELS: readonly string[] = ["main", "peer", "linked"];

/** Routing key of the one DM session every sender shares (scope "main"). */
export const MAIN_DM_KEY = "dm:main";

/** Routing key of a person's DM session across channels (scope "per-peer"). */
export function peerKey(peer: string): string {
  return `dm:peer:${keyId("user id", peer)}`;
}

/** Routing key of a DM session per bot account, channel and person (scope "per-account-channel-peer"). */
export function accountDmKey(channel: string, account: string, userId: string): string {
  // "thread" would make the key read as a thread of dm:<channel>.
  if (account === "thread") throw new OpenclawError("INVALID_KEY", `invalid account id "thread": the word is reserved in routing keys`);
  return `dm:${channelName(channel)}:${keyId("account id", account)}:${keyId("user id", userId)}`;
}

/** Routing key of a group session, shared by everyone in the group. */
export function groupKey(channel: string, groupId: string): string {
  return `group:${channelName(channel)}:${keyId("group id", groupId)}`;
}

/** Routing key of a thread: its own session under the parent key. */
export function threadKey(parentKey: string, threadId: string): string {
  return `${parentKey}:thread:${keyId("thread id", threadId)}`;
}

/** Routing key of an isolated session; `id` makes every one unique. */
export function isolatedKey(name: string, id: string): string {
  return `isolated:${assertSegment("isolated task name", name)}:${assertSegment("id", id)}`;
}

/** Routing key of a hook's session: one per hook name, kept apart from every conversation. */
export function hookKey(name: string): string {
  return `hook:${assertSegment("hook name", name)}`;
}

/** Routing key of one run of a job: every run gets a fresh session. */
export function jobKey(name: string, run: string): string {
  return `job:${assertSegment("job name", name)}:${assertSegment("run id", run)}`;
}

/** "hook" or "job" for the keys of webhook and job sessions (isolated sessions the key finds again); null for others. */
export function taskKeyKind(key: string): "hook" | "job" | null {
  return key.startsWith("hook:") ? "hook" : key.startsWith("job:") ? "job" : null;
}

// hook:<name> and job:<name>:<run>: isolated sessions, found again by their key.
function parseTaskKey(key: string): ParsedKey | undefined {
  const parts = key.split(":");
  const ok = (seg: string | undefined): seg is string => seg !== undefined && SEGMENT_RE.test(seg) && seg !== "." && seg !== "..";
  if (parts[0] === "hook" && parts.length === 2 && ok(parts[1])) return { kind: "isolated", channel: "hook", subject: parts[1], thread: null };
  if (parts[0] === "job" && parts.length === 3 && ok(parts[1]) && ok(parts[2])) return { kind: "isolated", channel: parts[1], subject: parts[2], thread: null };
  return undefined;
}

/** What a routing key says about its session. */
export interface ParsedKey {
  kind: SessionKind;
  /** Channel for dm/group keys ("main", "peer" or "linked" for DM keys across channels); the task name for isolated keys. */
  channel: string;
  /** User id, group id or isolated id; "main" for the shared DM key. */
  subject: string;
  thread: string | null;
  /** The bot account of a per-account DM key; absent on every other key. */
  account?: string;
}

/** Parses and validates a routing key; throws INVALID_KEY with the expected shapes. */
export function parseKey(key: unknown): ParsedKey {
  const bad = () =>
    new OpenclawError(
      "INVALID_KEY",
      `invalid routing key ${describe(key)}: expected dm:<channel>:<userId>, dm:<channel>:<account>:<userId>, dm:main, dm:peer:<id>, group:<channel>:<groupId> or isolated:<name>:<id>, optionally followed by :thread:<id>, or hook:<name>, job:<name>:<run>`,
    );
  if (typeof key !== "string" || key.length > MAX_KEY_LENGTH) throw bad();
  if (taskKeyKind(key) !== null) {
    const task = parseTaskKey(key);
    if (task === undefined) throw bad();
    return task;
  }
  const all = key.split(":");
  // A thread suffix is the last two parts; what is left is the parent's key.
  const threaded = all.length >= 4 && all[all.length - 2] === "thread";
  const parts = threaded ? all.slice(0, -2) : all;
  const thread = threaded ? (all[all.length - 1] as string) : null;
  const kind = parts[0];
  if (kind !== "dm" && kind !== "group" && kind !== "isolated") throw bad();
  // dm:main is the one two-part key; only DM keys may name an account (four parts).
  const main = kind === "dm" && parts.length === 2 && parts[1] === "main";
  const withAccount = kind === "dm" && parts.length === 4 && parts[1] !== "main" && parts[1] !== "peer";
  if (!main && parts.length !== 3 && !withAccount) throw bad();
  // "main" names the shared key alone: dm:main:<x> would read as a user of a channel called main.
  if (kind === "dm" && !main && parts[1] === "main") throw bad();
  const plain = (seg: string): string => {
    if (!SEGMENT_RE.test(seg) || seg === "." || seg === "..") throw bad();
    return seg;
  };
  // Channels and isolated names keep the narrow alphabet; peer ids are unescaped.
  const id = (seg: string): string => {
    const got = kind === "isolated" ? plain(seg) : idOfKeyPart(seg);
    if (got === undefined) throw bad();
    return got;
  };
  const threadId = thread !== null ? id(thread) : null;
  if (main) return { kind, channel: "main", subject: "main", thread: threadId };
  const channel = plain(parts[1] as string);
  if (withAccount) return { kind, channel, subject: id(parts[3] as string), thread: threadId, account: id(parts[2] as string) };
  return { kind, channel, subject: id(parts[2] as string), thread: threadId };
}

/** The DM scope a key was made under; undefined for group and isolated keys. */
export function scopeOfKey(parsed: ParsedKey): DmScope | undefined {
  if (parsed.kind !== "dm") return undefined;
  if (parsed.channel === "main") return "main";
  if (parsed.channel === "peer") return "per-peer";
  return parsed.account !== undefined ? "per-account-channel-peer" : "per-channel-peer";
}

/** The person a DM key is for (a user id or a linked person's id); null for the shared `dm:main` and non-DM keys. */
export function peerOfKey(parsed: ParsedKey): string | null {
  if (parsed.kind !== "dm" || scopeOfKey(parsed) === "main") return null;
  return parsed.subject;
}

/** The key of a thread's parent conversation; null for a key that is no thread. */
export function parentKey(key: string): string | null {
  const parsed = parseKey(key);
  return parsed.thread === null ? null : key.slice(0, key.lastIndexOf(":thread:"));
}

/** A routing key as routing writes it: validated, the channel of a dm or group key lower-cased. */
export function normalizeKey(key: string): string {
  const parsed = parseKey(key);
  if (parsed.kind === "isolated") return key;
  const parts = key.split(":");
  parts[1] = parsed.channel.toLowerCase();
  return parts.join(":");
}

/** True when `s` looks like a routing key (so a ref is resolved as a key, not an id prefix). */
export function looksLikeKey(s: string): boolean {
  return /^(dm|group|isolated|hook|job):/.test(s);
}
