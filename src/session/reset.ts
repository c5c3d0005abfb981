import { readlinkSync } from "node:fs";
import { parseKey } from "./keys.js";
import type { Session, SessionSummary } from "./types.js";

/** When a key's session is replaced by a fresh one: at a time of day, after inactivity, or never. */
export type ResetMode = "daily" | "idle" | "never";

/** A reset policy as config spells it (`sessions.reset`, an override of `resetByKind` or `resetByChannel`). */
export interface ResetPolicyInput {
  mode?: ResetMode | undefined;
  /** Hour of the day (0–23, in `timezone`) a daily reset happens at. */
  atHour?: number | undefined;
  /** IANA zone of `atHour`; the host's when absent. */
  timezone?: string | undefined;
  /** Inactivity after which the session resets (idle mode; with daily, whichever comes first). */
  idleMinutes?: number | undefined;
}

/** A reset policy with every field settled. */
export interface ResetPolicy {
  mode: ResetMode;
  atHour: number;
  timezone: string;
  /** Null: no idle reset. */
  idleMinutes: number | null;
}

/** The `sessions` config keys reset policies are read from. */
export interface ResetConfig {
  expirationMs: number;
  reset?: ResetPolicyInput | undefined;
  resetByKind?: Partial<Record<ResetKind, ResetPolicyInput | undefined>> | undefined;
  resetByChannel?: Record<string, ResetPolicyInput | undefined> | undefined;
}

/** The kinds `resetByKind` names: a thread is its own kind here, whatever its parent is. */
export type ResetKind = "dm" | "group" | "thread" | "isolated";

/** Default hour of a daily reset (before most people's day starts). */
export const DEFAULT_RESET_HOUR = 4;

const MINUTE_MS = 60_000;

/** The base policy: `sessions.reset` over what `sessions.expirationMs` says (an idle reset, or none when 0). */
function basePolicy(config: ResetConfig, hostZone: string): ResetPolicy {
  const idleFromExpiry = config.expirationMs > 0 ? config.expirationMs / MINUTE_MS : null;
  const given = config.reset ?? {};
  const mode = given.mode ?? (config.reset === undefined ? (idleFromExpiry === null ? "never" : "idle") : "daily");
  return settle({ mode, atHour: DEFAULT_RESET_HOUR, timezone: hostZone, idleMinutes: null }, { ...given, mode }, idleFromExpiry);
}

/** Applies an override's fields over `base`; an idle policy without its own idleMinutes keeps `expirationMs`'s. */
function settle(base: ResetPolicy, over: ResetPolicyInput, idleFromExpiry: number | null): ResetPolicy {
  const mode = over.mode ?? base.mode;
  let idleMinutes = over.idleMinutes ?? base.idleMinutes;
  if (mode === "idle" && idleMinutes === null) idleMinutes = idleFromExpiry;
  return { mode, atHour: over.atHour ?? base.atHour, timezone: over.timezone ?? base.timezone, idleMinutes: mode === "never" ? null : idleMinutes };
}

/** The kind `resetByKind` picks for a routing key (threads first). */
export function resetKindOf(key: string): ResetKind {
  try {
    const parsed = parseKey(key);
    return parsed.thread !== null ? "thread" : parsed.kind;
  } catch {
    // A key from a shape this build does not parse is treated like a one-off session's.
    return key.includes(":thread:") ? "thread" : "isolated";
  }
}

/**
 * What a session's policy is chosen by: its key and channel, and, for a
 * one-off Responses session, how many model calls it made (a document
 * counts them in `context.usage`, an index entry in `usage`).
 */
export type PolicySubject = Pick<SessionSummary, "key" | "channel"> & { context?: { usage?: { turns: number } | undefined }; usage?: { turns: number } | undefined };

/** The key prefix of the sessions `POST /v1/responses` makes for a request that continues nothing (`isolated:response:<id>@<credential>`). */
export const RESPONSE_SESSION_PREFIX = "isolated:response:";

/**
 * True for a one-off Responses session: one `POST /v1/responses` made for a
 * request that continued nothing, with at most one model call so far (a
 * second means a client continued it). A session whose calls were never
 * counted is not taken for one.
 */
export function isOneOff(s: PolicySubject): boolean {
  const turns = s.context !== undefined ? s.context.usage?.turns : s.usage?.turns;
  return s.key.startsWith(RESPONSE_SESSION_PREFIX) && turns !== undefined && turns <= 1;
}

/** `policy` for a one-off Responses session: it also resets after `ttlMs` idle (never later than `policy` says); other sessions' policy as it is. */
export function withOneOffTtl(policy: ResetPolicy, s: PolicySubject, ttlMs: number | null): ResetPolicy {
  if (ttlMs === null || !isOneOff(s)) return policy;
  const ttl = ttlMs / MINUTE_MS;
  if (policy.mode !== "never" && policy.idleMinutes !== null && policy.idleMinutes <= ttl) return policy;
  return { ...policy, mode: policy.mode === "never" ? "idle" : policy.mode, idleMinutes: ttl };
}

/** The policy a session follows: `resetByChannel` beats `resetByKind`, which beats `sessions.reset` (fields left out come from the one below). */
export function policyFor(config: ResetConfig, session: Pick<SessionSummary, "key" | "channel">, hostZone: string): ResetPolicy {
  const idleFromExpiry = config.expirationMs > 0 ? config.expirationMs / MINUTE_MS : null;
  let policy = basePolicy(config, hostZone);
  const byKind = config.resetByKind?.[resetKindOf(session.key)];
  if (byKind !== undefined) policy = settle(policy, byKind, idleFromExpiry);
  const byChannel = config.resetByChannel?.[session.channel.toLowerCase()] ?? config.resetByChannel?.[session.channel];
  if (byChannel !== undefined) policy = settle(policy, byChannel, idleFromExpiry);
  return policy;
}

/**
 * When a session following `policy` resets: the first `atHour` in its zone
 * after the session started (daily), its last activity plus the idle window
 * (idle, and daily with idleMinutes), whichever is first; null: never.
 */
export function resetAt(session: Pick<Session, "createdAt" | "lastActivityAt">, policy: ResetPolicy): Date | null {
  const times: number[] = [];
  if (policy.mode === "daily") times.push(nextHourAfter(Date.parse(session.createdAt), policy.atHour, policy.timezone));
  if (policy.mode !== "never" && policy.idleMinutes !== null) times.push(Date.parse(session.lastActivityAt) + policy.idleMinutes * MINUTE_MS);
  return times.length === 0 ? null : new Date(Math.min(...times));
}

/** True when a live session following `policy` is due for a reset at `now`. */
export function resetDue(session: Pick<Session, "createdAt" | "lastActivityAt">, policy: ResetPolicy, now: Date): boolean {
  const at = resetAt(session, policy);
  return at !== null && at.getTime() <= now.getTime();
}

/**
 * The longest idle window any policy of `config` may give a session, in ms;
 * 0 when some policy has none (daily without idleMinutes, never). Sessions
 * idle longer than this are expired for every policy, so the store can
 * evaluate it on read; shorter windows and daily resets are applied at
 * routing.
 */
export function longestIdleMs(config: ResetConfig): number {
  const idleFromExpiry = config.expirationMs > 0 ? config.expirationMs / MINUTE_MS : null;
  // The zone plays no part in an idle window.
  const base = basePolicy(config, "UTC");
  const kinds = Object.values(config.resetByKind ?? {}).filter((p) => p !== undefined);
  const channels = Object.values(config.resetByChannel ?? {}).filter((p) => p !== undefined);
  const policies = [base, ...kinds.map((k) => settle(base, k, idleFromExpiry))];
  // A channel override may sit on any kind's policy.
  for (const c of channels) for (const p of [...policies]) policies.push(settle(p, c, idleFromExpiry));
  let longest = 0;
  for (const p of policies) {
    if (p.mode === "never" || p.idleMinutes === null) return 0;
    longest = Math.max(longest, p.idleMinutes * MINUTE_MS);
  }
  return longest;
}

/**
 * The session with its status evaluated at `now` under `policy`: a live
 * session due for a reset is expired, as of the moment it became due (pure).
 */
export function evaluateReset(session: Session, policy: ResetPolicy, now: Date): Session {
  if (session.status !== "active" && session.status !== "created") return session;
  const at = resetAt(session, policy);
  if (at === null || at.getTime() > now.getTime()) return session;
  return { ...session, status: "expired", expiredAt: at.toISOString() };
}

/** A policy in words, for `sessions show`. */
export function describePolicy(policy: ResetPolicy): string {
  const idle = policy.idleMinutes === null ? "" : `after ${formatMinutes(policy.idleMinutes)} idle`;
  if (policy.mode === "never") return "never";
  if (policy.mode === "idle") return idle;
  const daily = `daily at ${String(policy.atHour).padStart(2, "0")}:00 ${policy.timezone}`;
  return idle === "" ? daily : `${daily} or ${idle}`;
}

function formatMinutes(minutes: number): string {
  if (minutes % 1440 === 0) return `${minutes / 1440} d`;
  if (minutes % 60 === 0) return `${minutes / 60} h`;
  return `${minutes} min`;
}

let hostZone: { tz: string | undefined; zone: string } | undefined;

/** The names a host's zone may have that Intl reports as "UTC" (checked against Node's Intl for each). */
const UTC_NAMES = new Set(["UTC", "UCT", "Universal", "Zulu", "GMT", "GMT0", "Greenwich"].flatMap((n) => [n, `Etc/${n}`]));

/**
 * The host's zone when it is UTC by name (TZ, else the /etc/localtime link), known without Intl: the
 * first Intl date formatter of a process loads the time-zone and locale data, about 20 ms and 8 MiB.
 * Undefined when that cannot be told this way.
 */
function utcHost(tz: string | undefined): "UTC" | undefined {
  if (tz !== undefined && tz !== "") return UTC_NAMES.has(tz.replace(/^:/, "")) ? "UTC" : undefined;
  try {
    const name = /\/zoneinfo\/(.+)$/.exec(readlinkSync("/etc/localtime"))?.[1];
    return name !== undefined && UTC_NAMES.has(name) ? "UTC" : undefined;
  } catch {
    return undefined;
  }
}

/** The zone this host's clock shows (the default `timezone`); looked up again only when TZ changes (a lookup may build a formatter). */
export function hostTimeZone(): string {
  const tz = process.env.TZ;
  if (hostZone === undefined || hostZone.tz !== tz) hostZone = { tz, zone: utcHost(tz) ?? (Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC") };
  return hostZone.zone;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Wall-clock fields of instant `ms` in `zone`. */
function wall(ms: number, zone: string): { y: number; m: number; d: number; h: number; min: number; s: number } {
  if (zone === "UTC") {
    const t = new Date(ms);
    return { y: t.getUTCFullYear(), m: t.getUTCMonth() + 1, d: t.getUTCDate(), h: t.getUTCHours(), min: t.getUTCMinutes(), s: t.getUTCSeconds() };
  }
  let f = formatters.get(zone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat("en-US", { timeZone: zone, hourCycle: "h23", year: "numeric", month: "numeric", day: "numeric", hour: "numeric", minute: "numeric", second: "numeric" });
    formatters.set(zone, f);
  }
  const out: Record<string, number> = {};
  for (const p of f.formatToParts(ms)) if (p.type !== "literal") out[p.type] = Number(p.value);
  return { y: out.year ?? 0, m: out.month ?? 1, d: out.day ?? 1, h: out.hour ?? 0, min: out.minute ?? 0, s: out.second ?? 0 };
}

/** The zone's offset from UTC at instant `ms`, in ms. */
function offsetAt(ms: number, zone: string): number {
  const w = wall(ms, zone);
  return Date.UTC(w.y, w.m - 1, w.d, w.h, w.min, w.s) - Math.floor(ms / 1000) * 1000;
}

/**
 * The instant the wall clock of `zone` shows `hour`:00 on the given date.
 * An hour skipped by a DST change maps to the same time after the change
 * (02:00 → 03:00 on a spring-forward night); an hour shown twice maps to
 * its first showing, so a reset never happens twice in one night.
 */
export function zonedHour(y: number, m: number, d: number, hour: number, zone: string): number {
  const asUtc = Date.UTC(y, m - 1, d, hour);
  // The offsets just before and after the day's possible transition.
  const before = offsetAt(asUtc - 86_400_000, zone);
  const after = offsetAt(asUtc + 86_400_000, zone);
  const hits = [asUtc - before, asUtc - after].filter((t) => {
    const w = wall(t, zone);
    return w.y === y && w.m === m && w.d === d && w.h === hour && w.min === 0;
  });
  if (hits.length > 0) return Math.min(...hits);
  // Skipped: with the offset in force before the change, the wall time lands past it by the gap.
  return asUtc - before;
}

// Routing asks for the same session's reset on every message: a few Intl calls each, so the answers are kept (bounded).
const boundaries = new Map<string, number>();
const BOUNDARIES_KEPT = 4096;

/** The first instant strictly after `ms` at which `zone`'s wall clock shows `hour`:00. */
export function nextHourAfter(ms: number, hour: number, zone: string): number {
  const key = `${ms}|${hour}|${zone}`;
  const known = boundaries.get(key);
  if (known !== undefined) return known;
  const t = firstHourAfter(ms, hour, zone);
  if (boundaries.size >= BOUNDARIES_KEPT) boundaries.clear();
  boundaries.set(key, t);
  return t;
}

function firstHourAfter(ms: number, hour: number, zone: string): number {
  const start = wall(ms, zone);
  for (let i = 0; i < 3; i++) {
    const day = new Date(Date.UTC(start.y, start.m - 1, start.d + i));
    const t = zonedHour(day.getUTCFullYear(), day.getUTCMonth() + 1, day.getUTCDate(), hour, zone);
    if (t > ms) return t;
  }
  // Unreachable for real zones (a day always has its hour within two days); a day later is the safe answer.
  return ms + 86_400_000;
}

/** Entries kept at most by a {@link PolicyCache} before it starts over. */
const POLICY_CACHE_MAX = 4096;

/**
 * A session's base policy depends only on its key and channel: parsed once
 * per pair, not on every append (the one-off TTL, which depends on usage,
 * is applied over it by the caller).
 */
export class PolicyCache {
  private readonly byKey = new Map<string, ResetPolicy>();

  constructor(private readonly compute: (s: Pick<SessionSummary, "key" | "channel">) => ResetPolicy) {}

  of(s: Pick<SessionSummary, "key" | "channel">): ResetPolicy {
    const k = `${s.channel}\u0000${s.key}`;
    let policy = this.byKey.get(k);
    if (policy === undefined) {
      if (this.byKey.size >= POLICY_CACHE_MAX) this.byKey.clear();
      policy = Object.freeze(this.compute(s));
      this.byKey.set(k, policy);
    }
    return policy;
  }
}
