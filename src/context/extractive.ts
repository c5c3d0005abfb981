import type { Message } from "../session/types.js";
import { extractIdentifiers } from "./_identifiers.js";
import type { SummarizeInput, Summarizer } from "./summarizer-types.js";
import { estimateTokens } from "./tokens.js";

export { extractIdentifiers } from "./_identifiers.js";

type Section = "earlier" | "decisions" | "questions" | "notes" | "identifiers";

interface Line {
  section: Section;
  text: string;
  /** Chronological rank; older lines are dropped first within a section. */
  order: number;
}

const TITLES: Record<Section, string> = {
  earlier: "Earlier summary:",
  decisions: "Decisions:",
  questions: "Open questions:",
  notes: "Notes:",
  identifiers: "Identifiers:",
};
const TITLE_TO_SECTION = new Map<string, Section>(Object.entries(TITLES).map(([k, v]) => [v, k as Section]));
const RENDER_ORDER: readonly Section[] = ["earlier", "decisions", "questions", "notes", "identifiers"];
/** Least important first: identifiers are what the summary exists to keep. */
const DROP_ORDER: readonly Section[] = ["notes", "earlier", "questions", "decisions", "identifiers"];

const HEADER = /^Summary of (\d+) earlier messages? \((?:(\S+) to |up to )(\S+)\):$/;
const DECISION =
  /\b(?:decided|decide to|decision|agreed|agree to|we'll|we will|let's go with|let's use|going with|go with|settled on|chose|chosen|will use|approved|confirmed)\b/i;
const SHORT_ANSWER = /^\s*(?:yes|yeah|yep|no|nope|sure|ok|okay|correct|right|agreed|confirmed|exactly|absolutely|definitely|please do|go ahead)\b/i;
const STOPWORDS = new Set(
  "about above after again also because been before being below between could does doing down during each from further have having here into itself just more most much only other over same should some such than that their them then there these they this those through under until very what when where which while whom with would your yours shall will".split(" "),
);
const IDS_PER_LINE = 8;
const ANSWER_WINDOW = 50;
const SENTENCE_CHARS = 240;

/** The offline default: deterministic, never writes a word that is not in its input, bounded by maxTokens. */
export function createExtractiveSummarizer(): Summarizer {
  return {
    name: "extractive",
    summarize: (input) => Promise.resolve(extractiveSummary(input)),
  };
}

/** Builds the rolling extractive summary synchronously; see {@link createExtractiveSummarizer}. */
export function extractiveSummary(input: SummarizeInput): string {
  const count = input.countTokens ?? estimateTokens;
  const lines: Line[] = [];
  let order = 0;
  const written = new Set<string>();
  const push = (section: Section, text: string): void => {
    // Repeated boilerplate ("We'll use carrier DHL.") would crowd out everything else.
    if (written.has(text)) return;
    written.add(text);
    lines.push({ section, text, order: order++ });
  };
  const knownIds = new Set<string>();
  let previousIdText = "";

  // 1. Roll the previous summary in, keeping its structure when it is ours.
  let from: string | null = null;
  const prev = input.previous;
  if (prev !== null && prev.text.trim() !== "") {
    const parsed = parseOwnSummary(prev.text);
    if (parsed !== null) {
      from = parsed.from;
      for (const l of parsed.lines) {
        if (l.section === "questions" && isAnswered(l.text, labelOf(l.text), input.messages, -1)) continue;
        if (l.section === "identifiers") previousIdText += `${l.text}\n`;
        push(l.section, l.text);
      }
    } else {
      for (const s of sentences(prev.text)) push("earlier", `- ${clip(s, SENTENCE_CHARS)}`);
      for (const chunk of chunks(extractIdentifiers(prev.text), IDS_PER_LINE)) {
        const text = `- [earlier summary] ${chunk.join(", ")}`;
        previousIdText += `${text}\n`;
        push("identifiers", text);
      }
    }
  }

  // 2. Extract from the folded messages, oldest first.
  const toolNames = new Map<string, string>();
  for (const m of input.messages) for (const c of m.toolCalls ?? []) toolNames.set(c.id, c.name);
  input.messages.forEach((m, index) => {
    const label = messageLabel(m, toolNames);
    const speaker = `${m.role} ${m.sender ?? ""}`;
    let noted = false;
    if (m.role !== "tool") {
      for (const s of sentences(m.content)) {
        if (/\?["')\]]*$/.test(s)) {
          if (!isAnswered(s, speaker, input.messages, index)) {
            push("questions", `- ${label} ${clip(s, SENTENCE_CHARS)}`);
            noted = true;
          }
        } else if (DECISION.test(s)) {
          push("decisions", `- ${label} ${clip(s, SENTENCE_CHARS)}`);
          noted = true;
        }
      }
      const first = sentences(m.content)[0];
      if (!noted && first !== undefined && (m.role === "user" || m.role === "assistant")) {
        push("notes", `- ${label} ${clip(first, SENTENCE_CHARS)}`);
      }
      for (const c of m.toolCalls ?? []) push("notes", `- ${label} tool call: ${clip(`${c.name} ${c.arguments}`, 160)}`);
    }
    const ids: string[] = [];
    const sources = [m.content, ...(m.toolCalls ?? []).map((c) => c.arguments)];
    for (const id of sources.flatMap((t) => extractIdentifiers(t))) {
      if (knownIds.has(id) || previousIdText.includes(id)) continue;
      knownIds.add(id);
      ids.push(id);
    }
    for (const chunk of chunks(ids, IDS_PER_LINE)) push("identifiers", `- ${label} ${chunk.join(", ")}`);
  });

  // 3. Header, then fit.
  const total = (prev?.messageCount ?? 0) + input.messages.length;
  const times = input.messages.map((m) => m.createdAt).filter((t) => !Number.isNaN(Date.parse(t)));
  from ??= prev === null && times.length > 0 ? minute(times[0] ?? "") : null;
  const to = times.length > 0 ? minute(times[times.length - 1] ?? "") : (prev?.updatedAt ? minute(prev.updatedAt) : "unknown");
  const noun = total === 1 ? "message" : "messages";
  const header = `Summary of ${total} earlier ${noun} (${from !== null ? `${from} to ` : "up to "}${to}):`;
  return fit(header, lines, input.maxTokens, count);
}

/** Drops lines, least important and oldest first, until the rendered text fits `maxTokens`. */
function fit(header: string, lines: Line[], maxTokens: number, count: (text: string) => number): string {
  const kept = new Set(lines);
  const lineCost = new Map(lines.map((l) => [l, count(`${l.text}\n`)]));
  const titleCost = new Map(RENDER_ORDER.map((s) => [s, count(`${TITLES[s]}\n`)]));
  const sectionSize = new Map<Section, number>();
  for (const l of lines) sectionSize.set(l.section, (sectionSize.get(l.section) ?? 0) + 1);
  let estimate = count(`${header}\n`);
  for (const l of lines) estimate += lineCost.get(l) ?? 0;
  for (const [s, n] of sectionSize) if (n > 0) estimate += titleCost.get(s) ?? 0;

  const victims = [...lines].sort((a, b) => DROP_ORDER.indexOf(a.section) - DROP_ORDER.indexOf(b.section) || a.order - b.order);
  let next = 0;
  const dropOne = (): boolean => {
    const v = victims[next++];
    if (v === undefined) return false;
    kept.delete(v);
    estimate -= lineCost.get(v) ?? 0;
    const left = (sectionSize.get(v.section) ?? 1) - 1;
    sectionSize.set(v.section, left);
    if (left === 0) estimate -= titleCost.get(v.section) ?? 0;
    return true;
  };
  while (estimate > maxTokens && dropOne()) {
    // Sum of parts first: cheap, and close to the real count.
  }
  // Token boundaries can merge across lines, so confirm on the rendered text.
  let text = render(header, lines, kept);
  while (count(text) > maxTokens && dropOne()) text = render(header, lines, kept);
  return text;
}

function render(header: string, lines: readonly Line[], kept: ReadonlySet<Line>): string {
  const out = [header];
  for (const section of RENDER_ORDER) {
    const items = lines.filter((l) => l.section === section && kept.has(l));
    if (items.length === 0) continue;
    out.push(TITLES[section]);
    for (const l of items) out.push(l.text);
  }
  return out.join("\n");
}

/** Parses a summary this module wrote; null for anything else (e.g. an LLM's prose). */
function parseOwnSummary(text: string): { from: string | null; lines: Array<{ section: Section; text: string }> } | null {
  const rows = text.split("\n");
  const head = HEADER.exec(rows[0] ?? "");
  if (head === null) return null;
  const lines: Array<{ section: Section; text: string }> = [];
  let section: Section = "earlier";
  for (const row of rows.slice(1)) {
    const title = TITLE_TO_SECTION.get(row);
    if (title !== undefined) section = title;
    else if (row.trim() !== "") lines.push({ section, text: row.startsWith("- ") ? row : `- ${row}` });
  }
  return { from: head[2] ?? null, lines };
}

function messageLabel(m: Message, toolNames: ReadonlyMap<string, string>): string {
  if (m.role === "tool") {
    const name = m.toolCallId === undefined ? undefined : toolNames.get(m.toolCallId);
    return `[tool${name !== undefined ? ` ${name}` : ""}${m.sender ? ` ${m.sender}` : ""}]`;
  }
  return `[${m.role}${m.sender ? ` ${m.sender}` : ""}]`;
}

/** The speaker of a rendered line, "[user alice] …" → "user alice". */
function labelOf(line: string): string {
  return /^- \[([^\]]*)\]/.exec(line)?.[1] ?? "";
}

/**
 * Heuristic: a question counts as answered when one of the next 50 messages
 * by someone else shares a content word or identifier with it, or the very
 * next reply by someone else opens with a short answer ("yes", "no", "ok" …).
 */
function isAnswered(question: string, speaker: string, messages: readonly Message[], index: number): boolean {
  const words = keywords(question);
  const ids = extractIdentifiers(question);
  let first = true;
  // A bounded look-ahead keeps folding thousands of imported messages linear.
  for (const m of messages.slice(index + 1, index + 1 + ANSWER_WINDOW)) {
    const other = `${m.role} ${m.sender ?? ""}`;
    if (other.trim() === speaker.trim() || m.role === "tool") continue;
    if (first && SHORT_ANSWER.test(m.content)) return true;
    first = false;
    const text = m.content.toLowerCase();
    if (ids.some((id) => m.content.includes(id))) return true;
    for (const w of words) if (text.includes(w)) return true;
  }
  return false;
}

function keywords(text: string): string[] {
  const words = text.toLowerCase().match(/\p{L}{4,}/gu) ?? [];
  return [...new Set(words.filter((w) => !STOPWORDS.has(w)))];
}

/** Splits prose into sentences; newlines always end one. */
function sentences(text: string): string[] {
  return text
    .split(/\n+|(?<=[.!?])\s+(?=["'(`@#$€£]?[\p{Lu}\p{N}])/u)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** Shortens to at most `max` characters without splitting a surrogate pair; the ellipsis marks the cut. */
function clip(s: string, max: number): string {
  const chars = Array.from(s);
  return chars.length <= max ? s : `${chars.slice(0, max - 1).join("").trimEnd()}…`;
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** "2025-01-02T10:03:04.000Z" → "2025-01-02T10:03Z", from the data, never the clock. */
function minute(iso: string): string {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? iso : `${new Date(ms).toISOString().slice(0, 16)}Z`;
}
