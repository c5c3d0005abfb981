import { readFileSync } from "node:fs";
import { pointerInHead } from "./_message-file.js";

// A needle made only of these can neither contain nor straddle a JSON escape
// (`\"`, `\\`, `\/`, `\n`, `\uXXXX`…), so its text appears in the raw bytes
// exactly where it appears in a message.
const PLAIN = /^[A-Za-z0-9 !#$%&'()*+,\-.:;<=>?@[\]^_`{|}~]+$/;

/** True when `needle` can be looked for in a document's raw bytes. */
export function probeable(needle: string): boolean {
  return PLAIN.test(needle);
}

/** What only a sealed value's field name looks like in raw JSON (inside a string the quotes would be escaped). */
const SEALED = '"sealed":"';

const patterns = new Map<string, RegExp>();

/**
 * False only when the file at `path` certainly holds no `needle`, matched
 * exactly as search matches message text (a case-insensitive regular
 * expression of the escaped needle). A file with `\u` escapes (a hand edit) or one
 * that cannot be read, or one holding sealed (encrypted) content, answers true: the caller then reads it properly. A
 * missing file answers `ifMissing`.
 */
export async function rawMayContain(path: string, needle: string, ifMissing: boolean): Promise<boolean> {
  let raw: string;
  try {
    // Synchronous on purpose: a document is small, and ten thousand thread-pool round trips cost more than the reads.
    raw = readFileSync(path, "utf8");
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "ENOENT" ? ifMissing : true;
  }
  return rawTextMayContain(raw, needle);
}

/** rawMayContain() of text already read. */
function rawTextMayContain(raw: string, needle: string): boolean {
  // Sealed content cannot be looked at without its key: the caller reads (and decrypts) it.
  if (raw.includes("\\u") || raw.includes(SEALED)) return true;
  let re = patterns.get(needle);
  if (re === undefined) {
    if (patterns.size > 64) patterns.clear();
    re = new RegExp(needle.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"), "i");
    patterns.set(needle, re);
  }
  return re.test(raw);
}

/** What a probe needs of the store's log: whether records of a session are waiting to be checkpointed. */
export interface ProbeLog {
  catchUp(): void;
  sessionsWithRecords(): string[];
}

/** Rules sessions out of a text search from their files' raw bytes (the file store's TextProbeStore). */
export class TextProbe {
  private lookedAt = 0;

  constructor(
    private readonly log: () => ProbeLog,
    private readonly layout: () => { doc(id: string): string; messages(id: string, gen: number): string; pruned(id: string): string },
  ) {}

  /** False only when session `id` certainly holds no `text`: no pending log record, and neither file has it. */
  async mayContain(id: string, text: string, pruned: boolean): Promise<boolean> {
    if (!probeable(text)) return true;
    const log = this.log();
    // A search probes every session: the log is looked at once per moment, not once per session.
    if (Date.now() - this.lookedAt > 100) {
      log.catchUp();
      this.lookedAt = Date.now();
    }
    if (log.sessionsWithRecords().includes(id)) return true;
    const layout = this.layout();
    let header: string;
    try {
      header = readFileSync(layout.doc(id), "utf8");
    } catch {
      // Missing or unreadable: for the full read to report.
      return true;
    }
    if (rawTextMayContain(header, text)) return true;
    // The split layout: the messages are in the message file the header names (lines past its committed length only add false hits).
    const file = pointerInHead(header);
    if (file !== undefined && file.bytes > 0 && (await rawMayContain(layout.messages(id, file.gen), text, true))) return true;
    return pruned && (await rawMayContain(layout.pruned(id), text, false));
  }
}
