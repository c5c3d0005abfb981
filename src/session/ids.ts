import { createHash, randomFillSync } from "node:crypto";
import { OpenclawError } from "../errors.js";

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const PREFIX_RE = /^[0-9a-f-]{1,36}$/;

// Random bytes are drawn a page at a time: one system call per 400 ids instead of one each.
const pool = Buffer.alloc(4000);
let used = pool.length;

/** 10 random bytes for {@link uuidv7}, never handed out twice; read them at once (the page is refilled later). */
export function idRandomBytes(): Uint8Array {
  if (used + 10 > pool.length) {
    randomFillSync(pool);
    used = 0;
  }
  used += 10;
  return pool.subarray(used - 10, used);
}

/**
 * Builds a UUIDv7 (time-ordered) from a millisecond timestamp and 10 random
 * bytes; pure so tests can pass both.
 */
export function uuidv7(nowMs: number, random: Uint8Array): string {
  if (random.length < 10) throw new Error("uuidv7 needs 10 random bytes");
  // 48 bits of milliseconds, big-endian.
  let ms = Math.max(0, Math.floor(nowMs));
  let time = "";
  for (let i = 0; i < 6; i++) {
    time = hex(ms % 256) + time;
    ms = Math.floor(ms / 256);
  }
  const r = (i: number): string => hex(random[i] ?? 0);
  const version = hex(0x70 | ((random[0] ?? 0) & 0x0f));
  const variant = hex(0x80 | ((random[2] ?? 0) & 0x3f));
  return `${time.slice(0, 8)}-${time.slice(8)}-${version}${r(1)}-${variant}${r(3)}-${r(4)}${r(5)}${r(6)}${r(7)}${r(8)}${r(9)}`;
}

/** Two lower-case hex digits for each byte value. */
const HEX: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));
const hex = (byte: number): string => HEX[byte] as string;

/** True for a well-formed session or message id (lower-case UUID). */
export function isValidId(id: unknown): boolean {
  return typeof id === "string" && UUID_RE.test(id);
}

/** Throws INVALID_ID unless `id` is a lower-case UUID; ids become file names, so nothing else passes. */
export function assertValidId(id: unknown): string {
  if (!isValidId(id)) {
    throw new OpenclawError("INVALID_ID", `invalid session id ${describe(id)}: expected a UUID such as 0193b2c4-5d6e-7f80-9a1b-2c3d4e5f6a7b`);
  }
  return id as string;
}

/** True when `s` can be a prefix of an id (hex digits and dashes only). */
export function isIdPrefix(s: string): boolean {
  return PREFIX_RE.test(s);
}

/** Renders an untrusted value for an error message: quoted, control characters escaped, shortened. */
export function describe(value: unknown): string {
  const text = typeof value === "string" ? value : String(value);
  const short = text.length > 80 ? `${text.slice(0, 77)}...` : text;
  return JSON.stringify(short);
}

/**
 * The lock name for routing a key, for stores that serialise routing with a
 * session lock: the key hashed into a UUID-shaped name (version nibble 8)
 * that real, time-ordered session ids (version 7) never equal.
 */
export function routeLockId(key: string): string {
  const h = createHash("sha256").update(`route:${key}`).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/**
 * A session's short reference: the last 12 hex digits of its id. They are
 * random (the id's leading digits are a timestamp, shared by sessions made
 * close together), so they tell sessions apart in any realistic store; a
 * clash is reported as ambiguous, never resolved to the wrong session.
 */
export function shortRef(id: string): string {
  return id.slice(-12);
}

/** True when `s` has the shape of a short reference (12 hex digits, no dash: never an id prefix). */
export function isShortRef(s: string): boolean {
  return /^[0-9a-f]{12}$/i.test(s);
}
