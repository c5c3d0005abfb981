// Patterns for the tokens a summary must carry verbatim. Order matters only
// for ties: at the same start position the longest match wins.
const PATTERNS: readonly RegExp[] = [
  /\bhttps?:\/\/[^\s<>"'`]+/g,
  /\b[\w.%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b/g,
  /\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b/g,
  /`[^`\n]{1,120}`/g,
  /(?<![\w.@])@[A-Za-z0-9_][A-Za-z0-9_.-]*[A-Za-z0-9_]/g,
  // Paths: absolute, home- or dot-relative, Windows, or relative with an extension.
  /(?<![\w/:.])(?:~|\.{1,2})?\/(?:[\w.@-]+\/)*[\w.@-]+/g,
  /\b[A-Za-z]:\\(?:[\w. -]+\\)*[\w.-]+/g,
  /\b[\w.-]+(?:\/[\w.-]+)+\.[A-Za-z0-9]{1,8}\b/g,
  // Ticket keys and ids: INV-2024-0042, JIRA-123, ORD_99812.
  /\b[A-Z][A-Z0-9]{1,15}(?:[-_][A-Z0-9]+)*[-_]\d+[A-Z0-9]*\b/g,
  /(?<![\w&])#\d+\b/g,
  // Money before or after the amount.
  /[$€£¥]\s?\d+(?:,\d{3})*(?:\.\d+)?(?:\s?(?:k|K|m|M|bn|B)\b)?/g,
  /\b\d+(?:,\d{3})*(?:\.\d+)?\s?(?:USD|EUR|GBP|JPY|CHF|CAD|AUD)\b/g,
  // Numbers with units; "%" sits outside \b.
  /\b\d+(?:[.,]\d+)*\s?%/g,
  /\b\d+(?:[.,]\d+)*\s?(?:ms|µs|us|ns|s|sec|secs|seconds?|min|mins|minutes?|h|hrs?|hours?|days?|weeks?|months?|years?|[KMGTP]i?B|[kKmMgGtT]b|bytes?|°C|°F|px|em|rem|kg|g|mg|km|m|cm|mm|mi|ft|tokens?|req\/s|rps|qps|fps|Hz|kHz|MHz|GHz|x|k|K|M)(?![\w/])/g,
  // ISO dates and times, IPs with optional port, versions, git hashes, long numbers.
  /\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?\b/g,
  /\b\d{1,3}(?:\.\d{1,3}){3}(?::\d{1,5})?\b/g,
  /\bv?\d+\.\d+\.\d+(?:[-+][\w.]+)?\b/g,
  /\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{7,40}\b/g,
  /\b\d{4,}\b/g,
];

// Sentence punctuation that trails a URL or path more often than it belongs to it.
const TRAILING = /[.,;:!?)\]}'"]+$/;

/** Identifiers in `text`, verbatim, in order of appearance, without duplicates or overlaps. */
export function extractIdentifiers(text: string): string[] {
  const spans: Array<{ start: number; end: number }> = [];
  for (const re of PATTERNS) {
    re.lastIndex = 0;
    for (const m of text.matchAll(re)) {
      let value = m[0];
      if (/^(?:https?:|[~./]|[A-Za-z]:\\)/.test(value) || value.includes("/")) value = value.replace(TRAILING, "");
      if (value.length < 2) continue;
      spans.push({ start: m.index, end: m.index + value.length });
    }
  }
  spans.sort((a, b) => a.start - b.start || b.end - a.end);
  const out: string[] = [];
  const seen = new Set<string>();
  let reached = -1;
  for (const s of spans) {
    if (s.start < reached) continue;
    reached = s.end;
    const value = text.slice(s.start, s.end);
    if (!seen.has(value)) {
      seen.add(value);
      out.push(value);
    }
  }
  return out;
}
