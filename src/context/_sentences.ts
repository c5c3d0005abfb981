// Sentence splitting that keeps abbreviations, initials, decimals and URLs
// inside their sentence: a summary line cut at "Dr." loses who it is about.

/** Words that end with a period without ending the sentence (lower case, without the final period). */
const ABBREVIATIONS = new Set(
  (
    "dr mr mrs ms mx prof sr jr st mt ft ave blvd rd inc ltd llc co corp plc gmbh bros dept univ est approx appt " +
    "e.g i.e etc vs cf al fig vol pp tel ext ref approx avg incl excl " +
    "jan feb apr jun jul aug sep sept oct nov dec tue tues wed thu thur thurs fri " +
    "a.m p.m u.s u.k u.n e.u ph.d m.d b.a m.a"
  ).split(" "),
);

// A candidate end: terminal punctuation, optional closing quotes or brackets, then space.
const CANDIDATE = /[.!?…]+["'”’)\]]*(?=\s)/g;

/** Splits prose into sentences; a newline always ends one. */
export function splitSentences(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split(/\n+/)) {
    let start = 0;
    CANDIDATE.lastIndex = 0;
    for (const m of line.matchAll(CANDIDATE)) {
      const end = m.index + m[0].length;
      const rest = line.slice(end).trimStart();
      if (!startsSentence(rest)) continue;
      if (m[0].startsWith(".") && !m[0].startsWith("..") && isAbbreviation(line.slice(start, m.index))) continue;
      push(out, line.slice(start, end));
      start = end;
    }
    push(out, line.slice(start));
  }
  return out;
}

function push(out: string[], s: string): void {
  const t = s.trim();
  if (t !== "") out.push(t);
}

// What may open the next sentence: a capital, a digit, or a quote/bracket/symbol before one.
function startsSentence(rest: string): boolean {
  return /^["'“‘(`@#$€£¥+]?[\p{Lu}\p{N}]/u.test(rest);
}

/** True when the word before a period is an abbreviation or an initial, so the period does not end the sentence. */
function isAbbreviation(before: string): boolean {
  const word = /(\S+)$/.exec(before)?.[1] ?? "";
  const bare = word.replace(/^["'“‘([]+/, "").toLowerCase();
  if (bare === "") return false;
  if (ABBREVIATIONS.has(bare)) return true;
  // Single initials ("J. Smith") and dotted acronyms ("U.S.A").
  if (/^\p{Lu}$/u.test(word.replace(/^["'“‘([]+/, ""))) return true;
  return /^(?:\p{L}\.)+\p{L}$/u.test(bare);
}
