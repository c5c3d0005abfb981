import { TextMemo } from "./_memo.js";
// Patterns for the tokens a summary must carry verbatim. Where matches
// overlap, the longest wins, so "+1-415-555-0123" is never cut to "0123".

const TLD = "com|org|net|io|dev|app|ai|co|uk|de|fr|nl|es|it|eu|us|ca|au|jp|ch|se|no|info|biz|cloud|sh|me|tv|gg|xyz|tech|internal|local|lan|example|test|gov|edu";
const MONTH = "Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?";
const UNITS =
  "ms|µs|us|ns|s|sec|secs|seconds?|min|mins|minutes?|h|hrs?|hours?|days?|nights?|weeks?|months?|years?|[KMGTP]i?B|[kKmMgGtT]b|bytes?|°C|°F|px|em|rem|kg|g|mg|lbs?|km|m|cm|mm|mi|miles?|ft|l|ml|kWh|W|kW|tokens?|req\\/s|rps|qps|fps|Hz|kHz|MHz|GHz|x|k|K|M";

/** Kinds of identifier; "weak" ones (plain quantities) matter less when a summary must shrink. */
export type IdentifierKind =
  "url" | "email" | "uuid" | "code" | "mention" | "path" | "host" | "iban" | "card" | "phone" | "flight" | "reference" | "money" | "date" | "time" | "ip" | "version" | "hash" | "number" | "quantity";

/** A pattern that needs an ASCII digit (`\d` matches no other) to match anything. */
const DIGIT = 0;

/**
 * Each pattern with what a text must hold for it to match at all: a digit,
 * or a string every match contains. A text without it is not searched with
 * that pattern; the result is the same, most chat sentences skip most patterns.
 */
const PATTERNS: ReadonlyArray<readonly [IdentifierKind, RegExp, typeof DIGIT | string]> = [
  ["url", /\bhttps?:\/\/[^\s<>"'`]+/g, "://"],
  ["email", /\b[\w.%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b/g, "@"],
  ["uuid", /\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b/g, "-"],
  ["code", /`[^`\n]{1,120}`/g, "`"],
  ["mention", /(?<![\w.@])@[A-Za-z0-9_][A-Za-z0-9_.-]*[A-Za-z0-9_]/g, "@"],
  // Host names and scheme-less URLs: a known TLD after one label, or any letters after two.
  ["host", new RegExp(`(?<![\\w@./-])(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\\.)+(?:${TLD})(?::\\d{1,5})?(?:\\/[^\\s<>"'\`]*)?(?![\\w-])`, "g"), "."],
  ["host", /(?<![\w@./-])(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.){2,}[a-z]{2,12}(?::\d{1,5})?(?![\w-])/g, "."],
  // Paths: absolute, home- or dot-relative, Windows, or relative with an extension.
  ["path", /(?<![\w/:.])(?:~|\.{1,2})?\/(?:[\w.@-]+\/)*[\w.@-]+/g, "/"],
  ["path", /\b[A-Za-z]:\\(?:[\w. -]+\\)*[\w.-]+/g, "\\"],
  ["path", /\b[\w.-]+(?:\/[\w.-]+)+\.[A-Za-z0-9]{1,8}\b/g, "/"],
  // IBAN: country, check digits, then groups of four with or without spaces.
  ["iban", /\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b/g, DIGIT],
  // Card-like and tracking groups of digits: 4111 1111 1111 1111, 9400 1000 0000 0000 0000 00.
  ["card", /\b\d{4}(?:[ -]\d{4}){2,5}(?:[ -]\d{1,4})?\b/g, DIGIT],
  ["card", /\b\d{4}[ -]\d{6}[ -]\d{5}\b/g, DIGIT],
  ["card", /(?:\*{4}[ -]?){3}\d{4}\b/g, DIGIT],
  // Phones: international with separators, or the North American (415) 555-0123 / 415-555-0123 forms.
  ["phone", /(?<![\w+])\+\d{1,3}(?:[ .-]?\(?\d{1,5}\)?){1,6}(?![\w-])/g, DIGIT],
  ["phone", /(?<![\w(])\(\d{3}\) ?\d{3}[ .-]\d{4}\b/g, DIGIT],
  ["phone", /\b\d{3}[.-]\d{3}[.-]\d{4}\b/g, DIGIT],
  // Codes of letters and digits joined by - or _: RSV-8812-ZT, PO-2025-000731, OPS-4471, ORD_99812.
  ["reference", /\b(?=[A-Za-z0-9_-]*\d)(?=[A-Za-z0-9_-]*[A-Z])[A-Z0-9][A-Za-z0-9]*(?:[-_][A-Za-z0-9]+)+\b/g, DIGIT],
  // Flight numbers (BA249, U2 8123 without the space) and booking/PNR/tracking codes (X7K2QD, 1Z999AA10123456784).
  ["flight", /\b(?:[A-Z]{2}|[A-Z]\d|\d[A-Z])\d{2,4}[A-Z]?\b/g, DIGIT],
  ["reference", /\b(?=[A-Z0-9]*\d)(?=[A-Z0-9]*[A-Z])[A-Z0-9]{5,24}\b/g, DIGIT],
  ["reference", /(?<![\w&])#\d+\b/g, DIGIT],
  // Money before or after the amount, with symbol or ISO code.
  ["money", /(?:[$€£¥₹]|\b(?:USD|EUR|GBP|JPY|CHF|CAD|AUD|INR)\s?)\d+(?:[,.' ]\d{3})*(?:[.,]\d{1,2}(?!\d))?(?:\s?(?:k|K|m|M|bn|B)\b)?/g, DIGIT],
  ["money", /\b\d+(?:[,.' ]\d{3})*(?:[.,]\d+)?\s?(?:USD|EUR|GBP|JPY|CHF|CAD|AUD|INR|dollars|euros?|pounds)\b/g, DIGIT],
  // Dates and times: ISO, numeric, and with month names ("12 May 2025", "March 3rd, 2026").
  ["date", /\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?\b/g, DIGIT],
  ["date", /\b\d{1,2}[/.]\d{1,2}[/.]\d{2,4}\b/g, DIGIT],
  ["date", new RegExp(`\\b\\d{1,2}(?:st|nd|rd|th)?(?: of)? (?:${MONTH})\\.?(?:,? \\d{4})?\\b`, "g"), DIGIT],
  ["date", new RegExp(`\\b(?:${MONTH})\\.? \\d{1,2}(?:st|nd|rd|th)?(?:,? \\d{4})?\\b`, "g"), DIGIT],
  ["time", /\b\d{1,2}:\d{2}(?::\d{2})?(?:\s?[AaPp]\.?[Mm]\.?)?(?:\s?(?:UTC|GMT|CET|CEST|BST|EST|EDT|PST|PDT))?(?!\w)/g, DIGIT],
  ["time", /\b\d{1,2}\s?[AaPp]\.?[Mm]\b\.?/g, DIGIT],
  // IPs with optional port, versions, git hashes.
  ["ip", /\b\d{1,3}(?:\.\d{1,3}){3}(?::\d{1,5})?\b/g, DIGIT],
  ["version", /\bv\d+(?:\.\d+)+(?:[-+][\w.]+)?\b/g, DIGIT],
  ["version", /\b\d+\.\d+\.\d+(?:[-+][\w.]+)?\b/g, DIGIT],
  ["hash", /\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{7,40}\b/g, DIGIT],
  // Numbers with units; "%" sits outside \b.
  ["quantity", /\b\d+(?:[.,]\d+)*\s?%/g, DIGIT],
  ["quantity", new RegExp(`\\b\\d+(?:[.,]\\d+)*\\s?(?:${UNITS})(?![\\w/])`, "g"), DIGIT],
  ["number", /\b\d{4,}\b/g, DIGIT],
];

// Sentence punctuation that trails a URL or path more often than it belongs to it.
const TRAILING = /[.,;:!?)\]}'"]+$/;

/** An identifier found in text, with its kind. */
export interface FoundIdentifier {
  value: string;
  kind: IdentifierKind;
}

// A rolling summary re-reads its previous notes on every fold: their lines are scanned once.
const memo = new TextMemo<readonly FoundIdentifier[]>(4096);

/** Identifiers in `text` with their kinds, verbatim, in order of appearance, without duplicates or overlaps. */
export function findIdentifiers(text: string): FoundIdentifier[] {
  const known = memo.get(text);
  if (known !== undefined) return known.map((f) => ({ ...f }));
  const found = scan(text);
  if (text.length <= 4096)
    memo.set(
      text,
      found.map((f) => ({ ...f })),
    );
  return found;
}

/** Every identifier span of `text`; `shortcuts: false` searches with every pattern whatever the text holds (the reference the shortcuts must agree with). */
export function scan(text: string, shortcuts = true): FoundIdentifier[] {
  const spans: Array<{ start: number; end: number; kind: IdentifierKind }> = [];
  const digits = /[0-9]/.test(text);
  for (const [kind, re, need] of PATTERNS) {
    if (shortcuts && (need === DIGIT ? !digits : !text.includes(need))) continue;
    re.lastIndex = 0;
    for (const m of text.matchAll(re)) {
      let value = m[0];
      if (kind === "url" || kind === "path" || kind === "host") value = value.replace(TRAILING, "");
      value = value.replace(/\s+$/, "");
      if (value.length < 2) continue;
      if (kind === "phone" && (value.match(/\d/g)?.length ?? 0) < 7) continue;
      spans.push({ start: m.index, end: m.index + value.length, kind });
    }
  }
  // Longest first, so a whole phone number or IBAN beats the number groups inside it.
  spans.sort((a, b) => b.end - b.start - (a.end - a.start) || a.start - b.start);
  const taken: Array<{ start: number; end: number; kind: IdentifierKind }> = [];
  for (const s of spans) if (!taken.some((t) => s.start < t.end && t.start < s.end)) taken.push(s);
  taken.sort((a, b) => a.start - b.start);
  const out: FoundIdentifier[] = [];
  const seen = new Set<string>();
  for (const s of taken) {
    const value = text.slice(s.start, s.end);
    if (seen.has(value)) continue;
    seen.add(value);
    out.push({ value, kind: s.kind });
  }
  return out;
}

/** Identifiers in `text`, verbatim, in order of appearance, without duplicates or overlaps. */
export function extractIdentifiers(text: string): string[] {
  return findIdentifiers(text).map((f) => f.value);
}

/** True for kinds that name one thing (a code, a number to call, an amount, a date), not a plain quantity. */
export function isStrongKind(kind: IdentifierKind): boolean {
  return kind !== "quantity" && kind !== "number" && kind !== "mention" && kind !== "code";
}
