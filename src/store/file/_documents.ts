import { randomBytes } from "node:crypto";
import { lstat, rename, unlink } from "node:fs/promises";
import { basename, join } from "node:path";
import { storageError } from "../../errors.js";
import { describe } from "../../session/ids.js";
import type { Session } from "../../session/types.js";
import { loadSchemas, type Schemas } from "../../session/_schemas.js";
import { SESSION_FORMAT_VERSION, type SessionStatus } from "../../session/types.js";
import { describeIssues, oneLine } from "../_document.js";
import { PLAIN_CODEC, type ContentCodec } from "../_crypto.js";
import type { StoreWarning } from "../store.js";
import { ensureDir, errnoOf, ignoreMissing, readHead, readNoFollow, writeAtomic } from "./_fs.js";
import type { Layout } from "./_paths.js";

/** Outcome of reading a session document. */
export type DocRead =
  | { state: "ok"; session: Session; bytes: number }
  | { state: "absent" }
  | { state: "corrupt"; reason: string; quarantinedAs: string | undefined };

/** Enough of the document's start to hold version, id and revision of a compact document, and usually its status. */
const HEAD_BYTES = 4096;
const HEAD_RE = /^\{"version":(\d+),"id":"([0-9a-f-]{36})","revision":(\d+),/;
// Inside a JSON string a quote is escaped, so `,"status":"` only matches the field itself.
const STATUS_RE = /,"status":"(created|active|archived|expired)"/;

/** What the first bytes of a document tell: its revision, status and size. */
export interface DocHead {
  revision: number;
  status: SessionStatus;
  size: number;
}

/** Reads, validates, writes and quarantines session documents. */
export class DocumentFiles {
  constructor(
    private readonly layout: Layout,
    private readonly warn: StoreWarning,
    /** How content is stored: sealed when the store is encrypted. */
    readonly codec: ContentCodec = PLAIN_CODEC,
  ) {}

  /**
   * Reads and validates a document. A corrupt one is moved to quarantine
   * (unless `dryRun`) and reported, never returned. One sealed with a key
   * this store does not hold throws ENCRYPTION_KEY and stays where it is:
   * it is not damaged.
   */
  async read(id: string, dryRun = false): Promise<DocRead> {
    const path = this.layout.doc(id);
    // A file replaced between our read and the quarantine move is read again rather than moved.
    for (let attempt = 0; ; attempt++) {
      let file;
      try {
        file = await readNoFollow(path);
      } catch (err) {
        if (errnoOf(err) !== "ELOOP") throw storageError("read", path, err);
        file = { data: Buffer.alloc(0), ino: -1, size: 0, mtimeMs: 0, isFile: false };
      }
      if (file === undefined) return { state: "absent" };
      const checked = file.isFile ? validate(id, file.data, await loadSchemas(), this.codec) : { ok: false as const, reason: "not a regular file" };
      if (checked.ok) return { state: "ok", session: checked.session, bytes: file.size };
      if (dryRun) return { state: "corrupt", reason: checked.reason, quarantinedAs: undefined };
      const moved = await this.quarantine(path, file.ino, file.size, file.mtimeMs, checked.reason);
      if (moved !== "changed" || attempt >= 2) {
        return { state: "corrupt", reason: checked.reason, quarantinedAs: moved === "changed" ? undefined : moved };
      }
    }
  }

  /**
   * The stored revision, or null when absent. Reads only the head of a
   * compact document; anything else (hand-written, other version) takes the
   * full validating read, which quarantines a corrupt file.
   */
  async revision(id: string): Promise<number | null> {
    return (await this.head(id))?.revision ?? null;
  }

  /** Revision, status and size from the document's first bytes (a full read when they do not tell); null when absent or corrupt. */
  async head(id: string): Promise<DocHead | null> {
    let head: { text: string; size: number } | undefined;
    try {
      head = readHead(this.layout.doc(id), HEAD_BYTES);
      if (head === undefined) return null;
    } catch {
      // Symlinks, directories and unreadable files are judged (and reported) by the full read.
      head = { text: "", size: 0 };
    }
    const m = HEAD_RE.exec(head.text);
    const status = STATUS_RE.exec(head.text)?.[1] as SessionStatus | undefined;
    if (m !== null && status !== undefined && (Number(m[1]) === SESSION_FORMAT_VERSION || Number(m[1]) === 1) && m[2] === id) {
      return { revision: Number(m[3]), status, size: head.size };
    }
    const full = await this.read(id);
    return full.state === "ok" ? { revision: full.session.revision, status: full.session.status, size: full.bytes } : null;
  }

  /** Writes the document atomically in its stored form; returns its size in bytes. */
  async write(session: Session): Promise<number> {
    const id = session.id;
    const json = JSON.stringify(this.codec.sealSession(session));
    await writeAtomic(this.layout.doc(id), json, id);
    return Buffer.byteLength(json, "utf8");
  }

  /** Removes the document; false when there was none. */
  async remove(id: string): Promise<boolean> {
    const path = this.layout.doc(id);
    try {
      await unlink(path);
      return true;
    } catch (err) {
      if (errnoOf(err) === "ENOENT") return false;
      throw storageError("delete", path, err);
    }
  }

  /**
   * Moves a corrupt file aside if it is still the one we read (same inode,
   * size, mtime) and warns; returns its quarantine name, "changed" when a
   * writer replaced it meanwhile, or undefined when it had already gone.
   */
  private async quarantine(path: string, ino: number, size: number, mtimeMs: number, reason: string): Promise<string | "changed" | undefined> {
    const st = await lstat(path).catch(ignoreMissing);
    if (st === undefined) return undefined;
    if (ino >= 0 && (st.ino !== ino || st.size !== size || st.mtimeMs !== mtimeMs)) return "changed";
    await ensureDir(this.layout.quarantine, false);
    const file = basename(path);
    let target = file;
    if ((await lstat(join(this.layout.quarantine, target)).catch(ignoreMissing)) !== undefined) {
      target = `${file}.${new Date().toISOString().replace(/[:.]/g, "-")}-${randomBytes(3).toString("hex")}`;
    }
    try {
      await rename(path, join(this.layout.quarantine, target));
    } catch (err) {
      if (errnoOf(err) === "ENOENT") return undefined;
      throw storageError("move to quarantine", path, err);
    }
    this.warn(`sessions/${file}: corrupt session file (${reason}); moved to sessions/quarantine/${target}`);
    return target;
  }
}

/**
 * Parses and validates a document's bytes against the schema and the id its
 * file name promises, opening sealed content first (ENCRYPTION_KEY is thrown,
 * not returned: a document the key cannot open is not corrupt).
 */
export function validate(id: string, data: Buffer, schemas: Schemas, codec: ContentCodec = PLAIN_CODEC): { ok: true; session: Session } | { ok: false; reason: string } {
  let value: unknown;
  try {
    value = JSON.parse(data.toString("utf8"));
  } catch (err) {
    return { ok: false, reason: `invalid JSON: ${oneLine(err instanceof Error ? err.message : String(err), 120)}` };
  }
  if (typeof value === "object" && value !== null && "version" in value && !schemas.READABLE_VERSIONS.includes(value.version as number)) {
    return { ok: false, reason: `unsupported format version ${oneLine(JSON.stringify(value.version) ?? "?", 40)}` };
  }
  value = codec.openSession(value, `sessions/${id}.json`);
  const parsed = schemas.parseStoredSession(value);
  if (!parsed.success) return { ok: false, reason: `invalid document: ${describeIssues(parsed.error)}` };
  if (parsed.data.id !== id) return { ok: false, reason: `holds session ${describe(parsed.data.id)}, not the one its name says` };
  return { ok: true, session: parsed.data };
}
