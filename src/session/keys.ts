import { OpenclawError } from "../errors.js";
import { describe } from "./ids.js";
import type { SessionKind } from "./types.js";

// Segments end up in keys shown to operators and matched exactly; keeping them
// to a conservative alphabet means a key can never smuggle separators,
// whitespace, control characters or path syntax.
const SEGMENT_RE = /^[A-Za-z0-9_.@+=-]{1,128}$/;
const MAX_KEY_LENGTH = 512;

/** Throws INVALID_KEY unless `value` is a valid key segment (channel, user, group, thread or task name). */
export function assertSegment(what: string, value: unknown): string {
  if (typeof value !== "string" || !SEGMENT_RE.test(value) || value === "." || value === "..") {
    throw new OpenclawError(
      "INVALID_KEY",
      `invalid ${what} ${describe(value)}: use 1-128 characters from A-Z a-z 0-9 _ . @ + = -`,
    );
  }
  return value;
}

/** A channel name as keys hold it: validated and lower-cased, since `Telegram` and `telegram` are one channel. */
export function channelName(value: unknown): string {
  return assertSegment("channel", value).toLowerCase();
}

/** Routing key of a direct-message session: one per user per channel. */
export function dmKey(channel: string, userId: string): string {
  return `dm:${channelName(channel)}:${assertSegment("user id", userId)}`;
}

/** Routing key of a group session, shared by everyone in the group. */
export function groupKey(channel: string, groupId: string): string {
  return `group:${channelName(channel)}:${assertSegment("group id", groupId)}`;
}

/** Routing key of a thread: its own session under the parent key. */
export function threadKey(parentKey: string, threadId: string): string {
  return `${parentKey}:thread:${assertSegment("thread id", threadId)}`;
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
  /** Channel for dm/group keys; the task name for isolated keys. */
  channel: string;
  /** User id, group id or isolated id. */
  subject: string;
  thread: string | null;
}

/** Parses and validates a routing key; throws INVALID_KEY with the expected shapes. */
export function parseKey(key: unknown): ParsedKey {
  const bad = () =>
    new OpenclawError(
      "INVALID_KEY",
      `invalid routing key ${describe(key)}: expected dm:<channel>:<userId>, group:<channel>:<groupId> or isolated:<name>:<id>, optionally followed by :thread:<id>, or hook:<name>, job:<name>:<run>`,
    );
  if (typeof key !== "string" || key.length > MAX_KEY_LENGTH) throw bad();
  if (taskKeyKind(key) !== null) {
    const task = parseTaskKey(key);
    if (task === undefined) throw bad();
    return task;
  }
  const parts = key.split(":");
  if (parts.length !== 3 && parts.length !== 5) throw bad();
  const [kind, channel, subject, threadWord, thread] = parts;
  if (kind !== "dm" && kind !== "group" && kind !== "isolated") throw bad();
  if (parts.length === 5 && threadWord !== "thread") throw bad();
  for (const seg of parts.length === 5 ? [channel, subject, thread] : [channel, subject]) {
    if (seg === undefined || !SEGMENT_RE.test(seg) || seg === "." || seg === "..") throw bad();
  }
  return { kind, channel: channel as string, subject: subject as string, thread: thread ?? null };
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
