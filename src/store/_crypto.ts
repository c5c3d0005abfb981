import { createCipheriv, createDecipheriv, createHash, createSecretKey, randomBytes, type KeyObject } from "node:crypto";
import { OpenclawError } from "../errors.js";
import type { Message, Session } from "../session/types.js";

// Encryption at rest. What a person wrote or was told (message contents and
// tool calls, the summary's text, preferences and system prompts) is sealed
// with AES-256-GCM, one random 12-byte IV per value; ids, keys, times,
// counts and token numbers stay clear, so listing, routing and revision
// checks never decrypt. A sealed value names the key that sealed it, so a
// store can hold values of two keys while a rekey runs. Each value is bound
// (as GCM's additional data) to what it belongs to — its message's id, or its
// session's id and part — so a value moved to another message or session
// fails its check instead of being read there.
//
// A sealed field keeps its place in the document with null as its value and
// the ciphertext goes to a `sealed` field beside it: the document keeps its
// key order (the file store reads revision and status from a document's
// first bytes) and nothing sealed can be mistaken for a plain value, since
// null is never a valid content, text, preferences or prompt list.

/** A 32-byte AES-256 key and its id (a digest of the key, so it names the key without revealing it). */
export interface Key {
  id: string;
  bytes: Buffer;
}

const VERSION = "v1";
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** IVs drawn from the CSPRNG in batches: one 12-byte draw costs about as much as the encryption itself. */
const IV_BATCH = 512;

/** The id of a key: 16 hex digits of a domain-separated SHA-256 of it. */
export function keyIdOf(bytes: Buffer): string {
  return createHash("sha256").update("openclaw-store-key\0").update(bytes).digest("hex").slice(0, 16);
}

/**
 * Reads a key written as 64 hex digits or as base64 of 32 bytes (what
 * `openssl rand -base64 32` prints); `source` names where it came from for
 * the error.
 */
export function parseKey(text: string, source: string): Key {
  const t = text.trim();
  let bytes: Buffer | undefined;
  if (/^[0-9a-fA-F]{64}$/.test(t)) bytes = Buffer.from(t, "hex");
  else if (/^[A-Za-z0-9+/_-]{43}=?$/.test(t)) bytes = Buffer.from(t, t.includes("-") || t.includes("_") ? "base64url" : "base64");
  if (bytes?.length !== 32) {
    throw new OpenclawError("ENCRYPTION_KEY", `${source} is not a 32-byte key: write it as base64 (44 characters) or hex (64 digits); make one with: openssl rand -base64 32`);
  }
  return { id: keyIdOf(bytes), bytes };
}

/** The error for a value sealed with a key this process does not have. */
export function missingKeyError(keyId: string | undefined): OpenclawError {
  const what = keyId === undefined ? "the store is encrypted" : `store content is encrypted with key ${keyId}`;
  return new OpenclawError("ENCRYPTION_KEY", `${what} and that key is not configured: set storage.encryption (keyEnv or keyFile) to it; nothing was written`);
}

/**
 * The keys a store is opened with: `write` seals every new value, every key
 * (write included) opens values. Two keys only while a rekey runs.
 */
export class Keyring {
  // KeyObjects, made once: passing raw bytes makes node:crypto import the key on every call.
  private readonly byId = new Map<string, KeyObject>();
  private readonly writeKey: KeyObject;
  private ivs = Buffer.alloc(0);
  private ivAt = 0;

  constructor(
    /** The key new values are sealed with. */
    readonly write: Key,
    more: readonly Key[] = [],
  ) {
    for (const k of [write, ...more]) this.byId.set(k.id, createSecretKey(k.bytes));
    this.writeKey = this.byId.get(write.id) as KeyObject;
  }

  /** Ids of every key held. */
  get ids(): string[] {
    return [...this.byId.keys()];
  }

  /** True when the key with this id is held. */
  has(id: string): boolean {
    return this.byId.has(id);
  }

  /** Seals text bound to `context` (what it belongs to): `v1.<key id>.<base64 of IV, tag, ciphertext>`. */
  seal(text: string, context: string): string {
    const iv = this.nextIv();
    const c = createCipheriv("aes-256-gcm", this.writeKey, iv);
    c.setAAD(Buffer.from(context, "utf8"));
    const body = Buffer.concat([c.update(text, "utf8"), c.final()]);
    return `${VERSION}.${this.write.id}.${Buffer.concat([iv, c.getAuthTag(), body]).toString("base64")}`;
  }

  /** A fresh random IV, never handed out twice. */
  private nextIv(): Buffer {
    if (this.ivAt + IV_BYTES > this.ivs.length) {
      this.ivs = randomBytes(IV_BYTES * IV_BATCH);
      this.ivAt = 0;
    }
    const iv = this.ivs.subarray(this.ivAt, this.ivAt + IV_BYTES);
    this.ivAt += IV_BYTES;
    return iv;
  }

  /** Opens a value sealed for `context`; ENCRYPTION_KEY when its key is not held, STORAGE when it fails its integrity check. */
  open(sealed: string, context: string, where: string): string {
    const [version, id, data] = sealed.split(".");
    if (version !== VERSION || id === undefined || data === undefined) {
      throw new OpenclawError("STORAGE", `${where}: an encrypted value has an unknown format (written by a newer version?); nothing was written`, { userError: false });
    }
    const key = this.byId.get(id);
    if (key === undefined) throw missingKeyError(id);
    const raw = Buffer.from(data, "base64");
    try {
      const d = createDecipheriv("aes-256-gcm", key, raw.subarray(0, IV_BYTES));
      d.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      d.setAAD(Buffer.from(context, "utf8"));
      return Buffer.concat([d.update(raw.subarray(IV_BYTES + TAG_BYTES)), d.final()]).toString("utf8");
    } catch {
      throw new OpenclawError("STORAGE", `${where}: an encrypted value fails its integrity check (damaged, altered, or moved from another message or session); it was left as it is`, { userError: false });
    }
  }
}

type Obj = Record<string, unknown>;

/** Bytes of plain text the codec remembers sealed values for, and the largest message it remembers. */
const RECENT_MAX_BYTES = 4 * 2 ** 20;
const RECENT_MAX_ENTRY = 16 * 2 ** 10;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Turns documents, summaries and messages into their stored form and back.
 * Without a keyring it stores plain values and refuses sealed ones with
 * ENCRYPTION_KEY (never as corrupt), so a store opened without its key
 * cannot mistake its data for damage.
 */
export class ContentCodec {
  /**
   * Sealed text of messages recently opened or sealed under the write key,
   * by id and plain text: a message stored again unchanged (every
   * checkpoint and whole-document save rewrites the history) keeps its
   * sealed bytes, so PostgreSQL sees an unchanged row and no CPU is spent
   * sealing it again. It reveals nothing new: it is the same value, stored again.
   */
  private readonly recent = new Map<string, string>();
  private recentBytes = 0;

  constructor(
    /** The keys; undefined stores plain values. */
    readonly keyring?: Keyring,
  ) {}

  /** True when values are sealed on write. */
  get encrypts(): boolean {
    return this.keyring !== undefined;
  }

  /** A message as stored. */
  sealMessage(m: Message): Message | Obj {
    if (this.keyring === undefined) return m;
    const inner = JSON.stringify(m.toolCalls === undefined ? { content: m.content } : { content: m.content, toolCalls: m.toolCalls });
    const key = `${m.id}\0${inner}`;
    const sealed = this.recent.get(key) ?? this.keyring.seal(inner, `message:${m.id}`);
    this.remember(key, sealed);
    return { ...m, content: null, ...(m.toolCalls === undefined ? {} : { toolCalls: null }), sealed };
  }

  /** A stored message made plain again (still to be validated by the caller). */
  openMessage(v: unknown, where: string): unknown {
    if (!isObj(v) || typeof v.sealed !== "string") return v;
    const text = this.opener().open(v.sealed, `message:${String(v.id)}`, where);
    const inner = JSON.parse(text) as Obj;
    // Only values of the write key are reused: a rekey must seal everything anew.
    if (typeof v.id === "string" && v.sealed.startsWith(`${VERSION}.${this.opener().write.id}.`)) this.remember(`${v.id}\0${text}`, v.sealed);
    const out: Obj = { ...v };
    delete out.sealed;
    out.content = inner.content;
    if ("toolCalls" in out) out.toolCalls = inner.toolCalls;
    return out;
  }

  /** The document's head as stored: preferences and system prompts sealed, summary and messages left as they are. */
  sealHead<T extends Pick<Session, "id" | "preferences" | "systemPrompts">>(doc: T): T | Obj {
    if (this.keyring === undefined) return doc;
    return { ...doc, preferences: null, systemPrompts: null, sealed: this.keyring.seal(JSON.stringify({ p: doc.preferences, s: doc.systemPrompts }), `session:${doc.id}`) };
  }

  /** The summary of session `id` as stored. */
  sealSummary(summary: Session["summary"], id: string): Session["summary"] | Obj {
    if (this.keyring === undefined || summary === null) return summary;
    return { ...summary, text: null, sealed: this.keyring.seal(summary.text, `summary:${id}`) };
  }

  /** A whole document as stored. */
  sealSession(doc: Session): Session | Obj {
    if (this.keyring === undefined) return doc;
    return { ...this.sealHead(doc), summary: this.sealSummary(doc.summary, doc.id), messages: doc.messages.map((m) => this.sealMessage(m)) };
  }

  /** A stored document (or a head without messages) made plain again, in its stored key order; still to be validated. */
  openSession(v: unknown, where: string): unknown {
    if (!isObj(v)) return v;
    let out = v;
    if (typeof v.sealed === "string") {
      const inner = JSON.parse(this.opener().open(v.sealed, `session:${String(v.id)}`, where)) as Obj;
      out = { ...v, preferences: inner.p, systemPrompts: inner.s };
      delete out.sealed;
    }
    const summary = out.summary;
    if (isObj(summary) && typeof summary.sealed === "string") {
      const text = this.opener().open(summary.sealed, `summary:${String(v.id)}`, where);
      const s: Obj = { ...summary, text };
      delete s.sealed;
      out = out === v ? { ...v, summary: s } : Object.assign(out, { summary: s });
    }
    if (Array.isArray(out.messages) && out.messages.some((m) => isObj(m) && typeof m.sealed === "string")) {
      const messages = out.messages.map((m) => this.openMessage(m, where));
      out = out === v ? { ...v, messages } : Object.assign(out, { messages });
    }
    return out;
  }

  private remember(key: string, sealed: string): void {
    if (key.length > RECENT_MAX_ENTRY) return;
    const had = this.recent.get(key);
    if (had !== undefined) {
      this.recent.delete(key);
      this.recentBytes -= key.length;
    }
    this.recent.set(key, sealed);
    this.recentBytes += key.length;
    for (const [k] of this.recent) {
      if (this.recentBytes <= RECENT_MAX_BYTES) break;
      this.recent.delete(k);
      this.recentBytes -= k.length;
    }
  }

  private opener(): Keyring {
    if (this.keyring === undefined) throw missingKeyError(undefined);
    return this.keyring;
  }
}

/** The codec that stores plain values (and refuses sealed ones). */
export const PLAIN_CODEC = new ContentCodec();

/** True when a parsed line is a stored message sealed whole (what a torn-line check may accept without the key). */
export function looksSealed(v: unknown): boolean {
  return isObj(v) && typeof v.sealed === "string" && typeof v.id === "string";
}

/**
 * Checks a store's recorded key ids (null: none recorded) against the
 * keyring it is opened with: every recorded key must be held (otherwise
 * values exist that cannot be opened), and the write key must be one of
 * them unless `rekeying`. Throws ENCRYPTION_KEY, having written nothing.
 */
export function checkKeyIds(location: string, recorded: readonly string[] | null, keyring: Keyring | undefined, rekeying = false): void {
  if (recorded === null || recorded.length === 0) return;
  if (keyring === undefined) {
    throw new OpenclawError("ENCRYPTION_KEY", `${location} is encrypted (key ${recorded.join(", ")}) and no key is configured: set storage.encryption (keyEnv or keyFile) to its key; nothing was written`);
  }
  const missing = recorded.filter((id) => !keyring.has(id));
  if (missing.length > 0 && recorded.length > 1) {
    throw new OpenclawError(
      "ENCRYPTION_KEY",
      `${location} is between two keys (${recorded.join(", ")}: a rekey did not finish) and key ${missing.join(", ")} is not configured: run openclaw store rekey again with both keys; nothing was written`,
    );
  }
  if (missing.length > 0 || (!rekeying && !recorded.includes(keyring.write.id))) {
    throw new OpenclawError(
      "ENCRYPTION_KEY",
      `the configured encryption key (id ${keyring.write.id}) is not the key of ${location} (id ${recorded.join(", ")}): configure the store's key, or rotate it with openclaw store rekey; nothing was written`,
    );
  }
}
