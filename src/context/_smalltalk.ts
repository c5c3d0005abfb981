// Messages that carry nothing to keep are counted, not quoted: a summary
// grows with what was said, not with how long people chatted.
import type { FoundIdentifier } from "./_identifiers.js";

/** Kinds of message the summary counts instead of quoting. */
export type ChatterKind = "acknowledgement" | "restatement" | "smallTalk" | "quantities";

const LINES: Record<ChatterKind, [string, string]> = {
  acknowledgement: ["short acknowledgement", "short acknowledgements"],
  restatement: ["reply restating the message before it", "replies restating the message before them"],
  smallTalk: ["message of small talk", "messages of small talk"],
  quantities: ["older remark with only a plain quantity", "older remarks with only a plain quantity"],
};
const KINDS = Object.keys(LINES) as ChatterKind[];
const COUNTED = new RegExp(
  `^(\\d+) (${KINDS.flatMap((k) => LINES[k])
    .map((l) => l.replace(/\s/g, "\\s"))
    .join("|")})$`,
);

/** Running counts of messages left out of the summary, by kind. */
export class ChatterCounts {
  private readonly counts = new Map<ChatterKind, number>();

  /** Counts one more message of `kind` (or `n` of them). */
  add(kind: ChatterKind, n = 1): void {
    this.counts.set(kind, (this.counts.get(kind) ?? 0) + n);
  }

  /** Reads a line of an earlier summary back into the counts; false when it is not one of ours. */
  read(line: string): boolean {
    const m = COUNTED.exec(line);
    if (m === null) return false;
    const kind = KINDS.find((k) => LINES[k].includes(m[2] ?? ""));
    if (kind === undefined) return false;
    this.add(kind, Number(m[1]));
    return true;
  }

  /** The one-liners, "42 short acknowledgements", for the kinds met. */
  lines(): string[] {
    return KINDS.filter((k) => (this.counts.get(k) ?? 0) > 0).map((k) => {
      const n = this.counts.get(k) ?? 0;
      return `${n} ${LINES[k][n === 1 ? 0 : 1]}`;
    });
  }
}

/** How a message with nothing to keep is counted: a few words are an acknowledgement, more are small talk. */
export function chatterKind(content: string): ChatterKind {
  return content.trim().split(/\s+/).length <= 6 ? "acknowledgement" : "smallTalk";
}

const STOP = new Set(
  "about after again also because been before being could does from have here into just more most only other over same should some such than that their them then there these they this those through very what when where which while with would your yours will shall noted thanks thank got sure okay".split(
    " ",
  ),
);

function contentWords(text: string): Set<string> {
  return new Set((text.toLowerCase().match(/\p{L}{4,}/gu) ?? []).filter((w) => !STOP.has(w)));
}

/**
 * True when an assistant's sentence only says back what the user's message
 * said: every identifier it names is in that message, and (without
 * identifiers) most of its words are too. "Got it, booking X7K2QD for Lisbon."
 */
export function restates(sentence: string, ids: readonly FoundIdentifier[], userMessage: string | undefined): boolean {
  if (userMessage === undefined) return false;
  if (ids.length > 0) return ids.every((i) => userMessage.includes(i.value));
  const mine = contentWords(sentence);
  if (mine.size < 3) return false;
  const theirs = contentWords(userMessage);
  let shared = 0;
  for (const w of mine) if (theirs.has(w)) shared++;
  return shared / mine.size >= 0.7;
}
