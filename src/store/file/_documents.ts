import { randomBytes } from "node:crypto";
import { lstatSync } from "node:fs";
import { lstat, readdir, rename, rm, unlink } from "node:fs/promises";
import { basename, join } from "node:path";
import { storageError } from "../../errors.js";
import { describe } from "../../session/ids.js";
import { toSummary } from "../../session/lifecycle.js";
import type { Message, Session, SessionSummary } from "../../session/types.js";
import { checkStoredSession, describeStoredIssues, READABLE_VERSIONS } from "../../session/stored-check.js";
import { SESSION_FORMAT_VERSION, type SessionStatus } from "../../session/types.js";
import { oneLine } from "../_document.js";
import { PLAIN_CODEC, type ContentCodec } from "../_crypto.js";
import type { StoreWarning } from "../store.js";
import { ensureDir, errnoOf, fsyncDir, ignoreMissing, readDocumentFile, readHead, readNoFollowSync, writeAtomic } from "./_fs.js";
import { messageLines, parsePointer, pointerInHead, readMessageLines, writeAt, type MessageFile } from "./_message-file.js";
import { messageFileName, messageFileOf, type Layout } from "./_paths.js";

type Corrupt = { state: "corrupt"; reason: string; quarantinedAs: string | undefined };

/** Outcome of reading a session document. */
export type DocRead = { state: "ok"; session: Session; bytes: number } | { state: "absent" } | Corrupt;

/** Outcome of reading what the index needs of a document (see {@link DocumentFiles.summary}). */
export type SummaryRead = { state: "ok"; summary: SessionSummary; gen: number | undefined } | { state: "absent" } | Corrupt;

/** A header read without its messages (see {@link DocumentFiles.readHeader}). */
export interface HeaderRead {
  /** The session without its messages (`messages` is empty). */
  session: Session;
  file: MessageFile;
}

/** Enough of the document's start to hold version, id and revision of a compact document, and usually its status. */
const HEAD_BYTES = 4096;
const HEAD_RE = /^\{"version":(\d+),"id":"([0-9a-f-]{36})","revision":(\d+),/;
// Inside a JSON string a quote is escaped, so `,"status":"` only matches the field itself.
const STATUS_RE = /,"status":"(created|active|archived|expired)"/;

/** What the first bytes of a document tell: its revision, status and size. */
export interface DocHead {
  revision: number;
  status: SessionStatus;
  /** Bytes of the document and its committed messages. */
  size: number;
}

/** A validated document; `unread` when its messages were left unread (`session.messages` is then empty) and the pointer counts them. */
type Checked = { ok: true; session: Session; bytes: number; gen?: number; unread?: MessageFile } | { ok: false; reason: string; gen?: number };
type Loaded = { state: "ok"; session: Session; bytes: number; gen: number | undefined; unread: MessageFile | undefined } | { state: "absent" } | Corrupt;
type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Reads, validates, writes and quarantines session documents. A session is
 * a header document `<id>.json` and its messages in `<id>.<gen>.jsonl` (see
 * _message-file.ts); a document holding its messages inline (the earlier
 * layout) is read as it is and takes the split layout at its next write.
 */
export class DocumentFiles {
  constructor(
    private readonly layout: Layout,
    private readonly warn: StoreWarning,
    /** How content is stored: sealed when the store is encrypted. */
    readonly codec: ContentCodec = PLAIN_CODEC,
  ) {}

  /**
   * Reads and validates a document with its messages. A corrupt one (header
   * or message file) is moved to quarantine, with its message file (unless
   * `dryRun`), and reported, never returned. One sealed with a key this
   * store does not hold throws ENCRYPTION_KEY and stays where it is: it is
   * not damaged.
   */
  async read(id: string, dryRun = false): Promise<DocRead> {
    const r = await this.load(id, dryRun, false);
    return r.state === "ok" ? { state: "ok", session: r.session, bytes: r.bytes } : r;
  }

  /**
   * The index summary of a document and the generation its header names,
   * judged and quarantined as read() does, but from the header alone where
   * its message file holds exactly the committed bytes: the pointer counts
   * the messages and their tokens. A document holding its messages inline,
   * or a message file of another size (missing, short, lines past the
   * committed length, not a regular file), takes the full read.
   */
  async summary(id: string): Promise<SummaryRead> {
    const r = await this.load(id, false, true);
    if (r.state !== "ok") return r;
    const s = toSummary(r.session, r.bytes);
    return { state: "ok", gen: r.gen, summary: r.unread === undefined ? s : { ...s, messageCount: r.unread.count, tokens: s.tokens + r.unread.tokens } };
  }

  private async load(id: string, dryRun: boolean, headerOnly: boolean): Promise<Loaded> {
    const path = this.layout.doc(id);
    // A file replaced between our reads and the quarantine move is read again rather than moved.
    for (let attempt = 0; ; attempt++) {
      let file;
      try {
        // A summary reads the header, small, of every document in a walk: synchronously, as the other bounded reads.
        file = headerOnly ? readNoFollowSync(path) : await readDocumentFile(path);
      } catch (err) {
        if (errnoOf(err) !== "ELOOP") throw storageError("read", path, err);
        file = { data: Buffer.alloc(0), ino: -1, size: 0, mtimeMs: 0, isFile: false };
      }
      if (file === undefined) return { state: "absent" };
      const checked: Checked = file.isFile ? await this.check(id, file.data, headerOnly) : { ok: false, reason: "not a regular file" };
      if (checked.ok) return { state: "ok", session: checked.session, bytes: file.size + checked.bytes, gen: checked.gen, unread: checked.unread };
      const same = await sameFile(path, file.ino, file.size, file.mtimeMs);
      if (same === undefined) return { state: "absent" };
      // A rewrite replaced the header (and removed the message file it named) while we read: read again.
      if (!same && attempt < 2) continue;
      if (dryRun) return { state: "corrupt", reason: checked.reason, quarantinedAs: undefined };
      const moved = await this.quarantine(path, id, file.ino, file.size, file.mtimeMs, checked.reason, checked.gen);
      if (moved !== "changed" || attempt >= 2) {
        return { state: "corrupt", reason: checked.reason, quarantinedAs: moved === "changed" ? undefined : moved };
      }
    }
  }

  /**
   * The header without its messages, validated, for a checkpoint that
   * appends to the message file: its cost does not grow with the history.
   * Undefined when that does not apply (no header, a document holding its
   * messages inline, anything doubtful): the caller then takes read().
   */
  async readHeader(id: string): Promise<HeaderRead | undefined> {
    const file = await readDocumentFile(this.layout.doc(id)).catch(() => undefined);
    if (file === undefined || !file.isFile) return undefined;
    let value: unknown;
    try {
      value = JSON.parse(file.data.toString("utf8"));
    } catch {
      return undefined;
    }
    if (!isObj(value) || "messages" in value || value.version !== SESSION_FORMAT_VERSION) return undefined;
    const pointer = parsePointer(value.messageFile);
    if (pointer === undefined) return undefined;
    // The committed bytes must be there to append after them.
    if (pointer.bytes > 0 && ((await lstat(this.layout.messages(id, pointer.gen)).catch(ignoreMissing))?.size ?? -1) < pointer.bytes) return undefined;
    const head: Obj = { ...value, messages: [] };
    delete head.messageFile;
    const opened = this.codec.openSession(head, `sessions/${id}.json`);
    const parsed = checkStoredSession(opened);
    if (!parsed.success || parsed.data.id !== id) return undefined;
    return { session: parsed.data, file: pointer };
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
      return { revision: Number(m[3]), status, size: head.size + (pointerInHead(head.text)?.bytes ?? 0) };
    }
    const full = await this.read(id);
    return full.state === "ok" ? { revision: full.session.revision, status: full.session.status, size: full.bytes } : null;
  }

  /**
   * Writes the session in full: its messages as the next generation of its
   * message file (flushed), then the header naming it (atomically), then
   * removes the generation it replaces. Returns the bytes written.
   */
  async write(session: Session): Promise<number> {
    const id = session.id;
    const gen = (this.currentGen(id) ?? 0) + 1;
    const text = messageLines(session.messages, this.codec);
    const bytes = Buffer.byteLength(text, "utf8");
    // An empty history has no file; the generation still moves on, so a header never names a file it did not mean.
    let tokens = 0;
    for (const m of session.messages) tokens += m.tokens;
    const file: MessageFile = { gen, bytes, count: session.messages.length, tokens, last: session.messages.at(-1)?.id ?? null };
    let written: number;
    try {
      if (bytes > 0) await writeAt(this.layout.messages(id, gen), 0, text, "write");
      written = await this.writeHeader(session, file);
    } catch (err) {
      // No header names the new generation: it goes, as a failed atomic write's temp file does.
      if (bytes > 0 && this.currentGen(id) !== gen) await rm(this.layout.messages(id, gen), { force: true }).catch(() => undefined);
      throw err;
    }
    await this.removeGenerations(id, [gen - 1]);
    return written + bytes;
  }

  /**
   * Appends `added` to the message file the header read names and writes
   * the header of `session` (its fields after the append; its messages are
   * not read) pointing past them: the cost of the new messages, whatever
   * the history's length. Returns the bytes of the header and the history.
   */
  async append(read: HeaderRead, session: Session, added: readonly Message[]): Promise<{ bytes: number; file: MessageFile }> {
    const id = session.id;
    let file = read.file;
    if (added.length > 0) {
      const text = messageLines(added, this.codec);
      const created = await writeAt(this.layout.messages(id, file.gen), file.bytes, text);
      // A file created here must be in the directory before a header names it.
      if (created) await fsyncDir(this.layout.sessions);
      let tokens = file.tokens;
      for (const m of added) tokens += m.tokens;
      file = { gen: file.gen, bytes: file.bytes + Buffer.byteLength(text, "utf8"), count: file.count + added.length, tokens, last: added.at(-1)?.id ?? file.last };
    }
    // The log keeps the records until the checkpoint's header is durable: its rename is flushed with the directory before a segment goes (SessionLog.collect).
    return { bytes: (await this.writeHeader(session, file, false)) + file.bytes, file };
  }

  /** Removes the document and its message files; false when there was no document. */
  async remove(id: string): Promise<boolean> {
    const path = this.layout.doc(id);
    const gen = this.currentGen(id);
    let existed: boolean;
    try {
      await unlink(path);
      existed = true;
    } catch (err) {
      if (errnoOf(err) !== "ENOENT") throw storageError("delete", path, err);
      existed = false;
    }
    // The one it names, and the one before it if a rewrite was cut short; other leftovers are maintenance's.
    if (gen !== undefined) await this.removeGenerations(id, [gen, gen - 1]);
    return existed;
  }

  /** The header in its stored form, pointer first after the revision (see pointerInHead); returns its size. */
  private async writeHeader(session: Session, file: MessageFile, syncDir = true): Promise<number> {
    const { messages: _messages, ...rest } = session;
    const sealed = this.codec.sealHead(rest) as Obj;
    const header = { version: session.version, id: session.id, revision: session.revision, messageFile: file, ...sealed, summary: this.codec.sealSummary(session.summary, session.id) };
    const json = JSON.stringify(header);
    await writeAtomic(this.layout.doc(session.id), json, session.id, syncDir);
    return Buffer.byteLength(json, "utf8");
  }

  /** The generation the header names now, from its first bytes; undefined when there is no header or it holds its messages inline. */
  private currentGen(id: string): number | undefined {
    try {
      const head = readHead(this.layout.doc(id), HEAD_BYTES);
      return head === undefined ? undefined : pointerInHead(head.text)?.gen;
    } catch {
      return undefined;
    }
  }

  /** Removes generations `gens` of the message file of `id`; a leftover (a failure here, a crash) is removed by maintenance. */
  private async removeGenerations(id: string, gens: readonly number[]): Promise<void> {
    for (const gen of gens) if (gen >= 1) await rm(this.layout.messages(id, gen), { force: true }).catch(() => undefined);
  }

  /** Generations of message files of `id` in the directory. */
  private async generationsOf(id: string): Promise<number[]> {
    const names = await readdir(this.layout.sessions).catch(() => [] as string[]);
    const out: number[] = [];
    for (const n of names) {
      const f = n.startsWith(id) ? messageFileOf(n) : undefined;
      if (f?.id === id) out.push(f.gen);
    }
    return out;
  }

  /** Validates a header (with its message file, unless `headerOnly` and it holds exactly the committed bytes) or a document holding its messages inline. */
  private async check(id: string, data: Buffer, headerOnly = false): Promise<Checked> {
    let value: unknown;
    try {
      value = JSON.parse(data.toString("utf8"));
    } catch (err) {
      return { ok: false, reason: `invalid JSON: ${oneLine(err instanceof Error ? err.message : String(err), 120)}` };
    }
    if (isObj(value) && "messageFile" in value && !("messages" in value)) {
      const file = parsePointer(value.messageFile);
      if (file === undefined) return { ok: false, reason: "invalid messageFile (generation, bytes, count, tokens, last)" };
      const name = messageFileName(id, file.gen);
      const unread = headerOnly && this.holdsCommitted(id, file);
      let messages: unknown[] = [];
      if (!unread) {
        const lines = await readMessageLines(this.layout.messages(id, file.gen), name, file);
        if (lines === undefined) return { ok: false, reason: `its message file ${name} is missing`, gen: file.gen };
        if (!lines.ok) return { ok: false, reason: lines.reason, gen: file.gen };
        messages = lines.messages;
      }
      const whole: Obj = { ...value, messages };
      delete whole.messageFile;
      const checked = validate(id, whole, this.codec);
      // A header that fails without its messages is judged with them, as read() would.
      if (unread && !checked.ok) return this.check(id, data);
      return checked.ok ? { ...checked, bytes: file.bytes, gen: file.gen, ...(unread ? { unread: file } : {}) } : { ...checked, gen: file.gen };
    }
    const checked = validate(id, value, this.codec);
    return checked.ok ? { ...checked, bytes: 0 } : checked;
  }

  /** True when the message file `file` names is a regular file of exactly its committed length (or none is needed): a stat, where judging its lines takes a read. */
  private holdsCommitted(id: string, file: MessageFile): boolean {
    if (file.bytes === 0) return true;
    try {
      const st = lstatSync(this.layout.messages(id, file.gen));
      return st.isFile() && st.size === file.bytes;
    } catch {
      return false;
    }
  }

  /**
   * Moves a corrupt header or document aside if it is still the one we read
   * (same inode, size, mtime), with its message file (generation `gen`, or
   * every one when the header does not say) as `<its quarantine name>.<gen>.jsonl`,
   * and warns; returns its quarantine name, "changed" when a writer replaced
   * it meanwhile, or undefined when it had already gone.
   */
  private async quarantine(path: string, id: string, ino: number, size: number, mtimeMs: number, reason: string, gen: number | undefined): Promise<string | "changed" | undefined> {
    const same = await sameFile(path, ino, size, mtimeMs);
    if (same === undefined) return undefined;
    if (!same) return "changed";
    await ensureDir(this.layout.quarantine, false);
    const file = basename(path);
    let target = file;
    if ((await lstat(join(this.layout.quarantine, target)).catch(ignoreMissing)) !== undefined) {
      target = `${file}.${new Date().toISOString().replace(/[:.]/g, "-")}-${randomBytes(3).toString("hex")}`;
    }
    // Message files first: a header left behind without them reads as corrupt and is moved on the next read.
    for (const g of gen !== undefined ? [gen] : await this.generationsOf(id)) {
      await rename(this.layout.messages(id, g), join(this.layout.quarantine, `${target}.${g}.jsonl`)).catch((err: unknown) => {
        if (errnoOf(err) !== "ENOENT") throw storageError("move to quarantine", this.layout.messages(id, g), err);
      });
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

/** True when the file at `path` is still the one read (same inode, size, mtime); undefined when it is gone. */
async function sameFile(path: string, ino: number, size: number, mtimeMs: number): Promise<boolean | undefined> {
  const st = await lstat(path).catch(ignoreMissing);
  if (st === undefined) return undefined;
  return ino < 0 || (st.ino === ino && st.size === size && st.mtimeMs === mtimeMs);
}

/**
 * Validates a parsed document (messages inline) against the schema and the
 * id its file name promises, opening sealed content first (ENCRYPTION_KEY is
 * thrown, not returned: a document the key cannot open is not corrupt).
 */
export function validate(id: string, value: unknown, codec: ContentCodec = PLAIN_CODEC): { ok: true; session: Session } | { ok: false; reason: string } {
  if (typeof value === "object" && value !== null && "version" in value && !READABLE_VERSIONS.includes(value.version as number)) {
    return { ok: false, reason: `unsupported format version ${oneLine(JSON.stringify(value.version) ?? "?", 40)}` };
  }
  value = codec.openSession(value, `sessions/${id}.json`);
  const parsed = checkStoredSession(value);
  if (!parsed.success) return { ok: false, reason: `invalid document: ${oneLine(describeStoredIssues(parsed.issues))}` };
  if (parsed.data.id !== id) return { ok: false, reason: `holds session ${describe(parsed.data.id)}, not the one its name says` };
  return { ok: true, session: parsed.data };
}
