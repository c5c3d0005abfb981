import type { Context, MiddlewareHandler } from "hono";
import type { RateLimitsConfig } from "../config/schema.js";
import { OpenclawError } from "../errors.js";
import { parseKey, peerOfKey } from "../session/keys.js";
import type { Credential } from "./_credential.js";
import { SESSION_HEADERS } from "./_target.js";

/** One bucket's settings: the sustained rate, and how many requests may come at once. */
export interface BucketSettings {
  requestsPerMinute: number;
  /** Bucket size (default: requestsPerMinute). */
  burst?: number | undefined;
}

/** Most keys one table of buckets holds; past it the least recently used go first. */
const MAX_KEYS = 50_000;

/**
 * Token buckets by key (a credential's name, a sender). A key's bucket
 * starts full (`burst` tokens) and refills at `requestsPerMinute`. Memory
 * stays bounded: a bucket that has refilled is the same as none and is
 * dropped as the table is used, and the table never holds more than
 * {@link MAX_KEYS} keys (the least recently used go first).
 */
export class TokenBuckets {
  private readonly perMs: number;
  private readonly burst: number;
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    settings: BucketSettings,
    private readonly maxKeys = MAX_KEYS,
  ) {
    this.perMs = settings.requestsPerMinute / 60_000;
    this.burst = settings.burst ?? settings.requestsPerMinute;
  }

  /** Keys held now (for tests of the memory bound). */
  get size(): number {
    return this.buckets.size;
  }

  /** Milliseconds until `key` has a token at `now` (0: it has one now). */
  wait(key: string, now: number): number {
    const tokens = this.tokens(key, now);
    return tokens >= 1 ? 0 : Math.ceil((1 - tokens) / this.perMs);
  }

  /** Spends one of `key`'s tokens at `now` (call after {@link wait} said 0). */
  take(key: string, now: number): void {
    const tokens = this.tokens(key, now);
    // Re-inserted, so the map's order is least recently used first.
    this.buckets.delete(key);
    this.buckets.set(key, { tokens: tokens - 1, at: now });
    this.evict(now);
  }

  private tokens(key: string, now: number): number {
    const b = this.buckets.get(key);
    return b === undefined ? this.burst : Math.min(this.burst, b.tokens + Math.max(0, now - b.at) * this.perMs);
  }

  /** Drops refilled buckets from the least recently used end (a few per call, so the cost stays flat), and any beyond the cap. */
  private evict(now: number): void {
    let looked = 0;
    for (const [key, b] of this.buckets) {
      const full = b.tokens + (now - b.at) * this.perMs >= this.burst;
      if (full || this.buckets.size > this.maxKeys) this.buckets.delete(key);
      else if (++looked >= 2) break;
    }
  }
}

/** Per-credential and per-sender limits, taken together: a request refused by one spends nothing from the other. */
export class RateLimiter {
  private readonly credentials: TokenBuckets | undefined;
  private readonly senders: TokenBuckets | undefined;

  constructor(
    config: RateLimitsConfig,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.credentials = config.perCredential === undefined ? undefined : new TokenBuckets(config.perCredential);
    this.senders = config.perSender === undefined ? undefined : new TokenBuckets(config.perSender);
  }

  /** True when at least one limit is configured. */
  get enabled(): boolean {
    return this.credentials !== undefined || this.senders !== undefined;
  }

  /** Takes a token for the credential and, when one is named, the sender; throws RATE_LIMITED (with Retry-After) when either is spent. */
  check(credential: string, sender: string | undefined): void {
    const now = this.now();
    const byCredential = this.credentials?.wait(credential, now) ?? 0;
    const bySender = sender === undefined ? 0 : (this.senders?.wait(sender, now) ?? 0);
    if (byCredential > 0 || bySender > 0) {
      const who = bySender >= byCredential ? `sender ${sender ?? ""}` : `credential ${credential}`;
      const seconds = Math.max(1, Math.ceil(Math.max(byCredential, bySender) / 1000));
      throw new OpenclawError("RATE_LIMITED", `too many requests for ${who} (gateway.rateLimits): retry in ${seconds} s`, { retryAfterSeconds: seconds });
    }
    this.credentials?.take(credential, now);
    if (sender !== undefined) this.senders?.take(sender, now);
  }
}

/** The name rate limits and logs know a request's caller by ("anonymous" until the auth middleware names one). */
export function credentialName(c: Context): string {
  return (c.get("credential") as Credential | undefined)?.name ?? "anonymous";
}

/** The sender a channel message comes from, as the limiter keys it (channel names are case-insensitive). */
export function senderKey(channel: string, senderId: string): string {
  return `${channel.toLowerCase()}:${senderId}`;
}

/**
 * The sender an OpenAI-compatible request names in its headers:
 * `x-openclaw-channel` + `x-openclaw-sender`, or a routing key with
 * `x-openclaw-sender` (a dm key implies its user). Undefined when none.
 */
export function headerSender(c: Context): string | undefined {
  const sender = c.req.header(SESSION_HEADERS.sender) || undefined;
  const key = c.req.header(SESSION_HEADERS.key);
  if (key !== undefined && key !== "") {
    try {
      const parsed = parseKey(key);
      const who = sender ?? peerOfKey(parsed) ?? undefined;
      return who === undefined ? undefined : senderKey(parsed.channel, who);
    } catch {
      // An invalid key is refused by the route with its own message.
      return undefined;
    }
  }
  const channel = c.req.header(SESSION_HEADERS.channel);
  return channel !== undefined && channel !== "" && sender !== undefined ? senderKey(channel, sender) : undefined;
}

/**
 * Middleware: every request it guards takes a token from its credential's
 * bucket and from its sender's (named by headers). `POST /hooks/inbound`
 * names its sender in the body, so its route calls {@link RateLimiter.check} itself.
 */
export function rateLimit(limits: RateLimiter): MiddlewareHandler {
  return async (c, next) => {
    if (c.req.method === "POST" && c.req.path === "/hooks/inbound") return next();
    limits.check(credentialName(c), headerSender(c));
    return next();
  };
}
