import type { Message } from "../session/types.js";
import { clip, compressText, fitSummary } from "./_fit.js";
import { extractIdentifiers, findIdentifiers } from "./_identifiers.js";
import { applyUpdates, classifySentence, hasStrongId, makeNote, parseSummary, splitSentences, type Note, type SectionId } from "./_notes.js";
import { ChatterCounts, chatterKind, restates } from "./_smalltalk.js";
import type { SummarizeInput, Summarizer } from "./summarizer-types.js";
import { estimateTokens } from "./tokens.js";

export { extractIdentifiers, findIdentifiers } from "./_identifiers.js";
export { splitSentences } from "./_sentences.js";

const SHORT_ANSWER = /^\s*(?:yes|yeah|yep|no|nope|sure|ok|okay|correct|right|agreed|confirmed|exactly|absolutely|definitely|please do|go ahead)\b/i;
const STOPWORDS = new Set(
  "about above after again also because been before being below between could does doing down during each from further have having here into itself just more most much only other over same should some such than that their them then there these they this those through under until very what when where which while whom with would your yours shall will".split(
    " ",
  ),
);
const ANSWER_WINDOW = 50;
// Remarks whose only figures are plain quantities ("for 3 hours") are kept for a while, then counted:
// chat is full of them, and an unbounded number would grow the summary with turns, not information.
const QUANTITY_REMARKS_KEPT = 24;
const SENTENCE_CHARS = 240;

/** The offline default: deterministic, never writes a word that is not in its input, bounded by maxTokens. */
export function createExtractiveSummarizer(): Summarizer {
  return {
    name: "extractive",
    summarize: (input) => Promise.resolve(extractiveSummary(input)),
  };
}

/**
 * Builds the rolling extractive summary synchronously: the previous summary's
 * notes (parsed back into their sections) plus the folded messages' sentences,
 * classified, with superseded values and exact repeats removed, then fitted
 * to `maxTokens` by {@link fitSummary}.
 */
export function extractiveSummary(input: SummarizeInput): string {
  const count = input.countTokens ?? estimateTokens;
  const notes: Note[] = [];
  const written = new Set<string>();
  let order = 0;
  const push = (section: SectionId, label: string, text: string, rolled?: Note): void => {
    // Repeated boilerplate ("We'll use carrier DHL.") would crowd out everything else.
    const key = `${section}\u0000${label}\u0000${text}`;
    if (written.has(key)) return;
    written.add(key);
    const note = makeNote(section, label, text, order++);
    if (rolled !== undefined) Object.assign(note, { was: [...rolled.was], rolled: true });
    notes.push(note);
  };
  const participants = new Set<string>();
  const chatter = new ChatterCounts();

  // 1. Roll the previous summary in, keeping its structure.
  let from: string | null = null;
  const prev = input.previous;
  if (prev !== null && prev.text.trim() !== "") {
    const parsed = parseSummary(prev.text);
    from = parsed.from;
    for (const n of parsed.notes) {
      if (n.section === "about" && n.text.startsWith("Participants:")) {
        for (const p of n.text.slice("Participants:".length).split(",")) if (p.trim() !== "") participants.add(p.trim());
        continue;
      }
      if (n.section === "notes" && n.label === "" && chatter.read(n.text)) continue;
      // Our own earlier format quoted small talk under "Notes:"; it is counted now.
      if (parsed.own && n.section === "notes" && !hasStrongId(n)) {
        chatter.add("smallTalk");
        continue;
      }
      let section = n.section;
      if (section === "open" && /\?["')\]]*$/.test(n.text) && isAnswered(n.text, speakerOf(n.label), input.messages, -1)) {
        // An answered question with an identifier still carries a fact; otherwise it is done.
        if (!hasStrongId(n)) continue;
        section = "facts";
      }
      push(section, n.label, n.text, n);
    }
  }
  const hasTopic = notes.some((n) => n.section === "about");

  // 2. Extract from the folded messages, oldest first.
  const toolNames = new Map<string, string>();
  for (const m of input.messages) for (const c of m.toolCalls ?? []) toolNames.set(c.id, c.name);
  let topicSet = hasTopic;
  let lastUser: string | undefined;
  input.messages.forEach((m, index) => {
    const label = messageLabel(m, toolNames);
    if (m.role === "user" || m.role === "assistant") participants.add(`${m.role}${m.sender ? ` ${m.sender}` : ""}`);
    const speaker = `${m.role} ${m.sender ?? ""}`;
    let noted = false;
    let restated = false;
    const all = splitSentences(m.content);
    for (const s of all) {
      const ids = findIdentifiers(s);
      // What the assistant only says back is already in the user's note.
      if (m.role === "assistant" && restates(s, ids, lastUser)) {
        restated = true;
        continue;
      }
      const text = ids.length > 0 ? compressText(s, ids, SENTENCE_CHARS) : clip(s, SENTENCE_CHARS);
      if (m.role === "tool") {
        if (ids.length > 0) push("facts", label, text);
        continue;
      }
      let section: SectionId | null;
      if (/\?["')\]]*$/.test(s)) section = isAnswered(s, speaker, input.messages, index) ? (ids.length > 0 ? "facts" : null) : "open";
      else section = classifySentence(s, m.role, ids);
      // The topic: the first plain statement the user makes that is not already a fact, decision or question.
      if (section === null && !topicSet && m.role === "user" && s.split(/\s+/).length >= 4 && !s.endsWith("?")) {
        push("about", label, `Topic: ${text}`);
        topicSet = true;
        noted = true;
        continue;
      }
      if (section === null) continue;
      push(section, label, text);
      noted = true;
    }
    if (!noted && m.role !== "tool" && m.content.trim() !== "" && (m.toolCalls?.length ?? 0) === 0) chatter.add(restated ? "restatement" : chatterKind(m.content));
    if (m.role === "user") lastUser = m.content;
    for (const c of m.toolCalls ?? []) {
      const call = `tool call: ${c.name} ${c.arguments}`;
      const ids = findIdentifiers(c.arguments);
      push(ids.length > 0 ? "facts" : "notes", label, ids.length > 0 ? compressText(call, ids, SENTENCE_CHARS) : clip(call, 160));
    }
  });

  // 3. Who and what, explicit updates applied, small talk counted, header, then fit.
  if (participants.size > 0) notes.push(makeNote("about", "", `Participants: ${[...participants].join(", ")}`, -1));
  const current = applyUpdates(notes);
  const remarks = current.filter((n) => n.section === "facts" && !hasStrongId(n)).sort((a, b) => a.order - b.order);
  if (remarks.length > QUANTITY_REMARKS_KEPT) {
    const gone = new Set(remarks.slice(0, remarks.length - QUANTITY_REMARKS_KEPT));
    chatter.add("quantities", gone.size);
    for (let i = current.length - 1; i >= 0; i--) if (gone.has(current[i] as Note)) current.splice(i, 1);
  }
  for (const line of chatter.lines()) current.push(makeNote("notes", "", line, order++));
  const total = (prev?.messageCount ?? 0) + input.messages.length;
  const times = input.messages.map((m) => m.createdAt).filter((t) => !Number.isNaN(Date.parse(t)));
  from ??= prev === null && times.length > 0 ? minute(times[0] ?? "") : null;
  const to = times.length > 0 ? minute(times[times.length - 1] ?? "") : prev?.updatedAt ? minute(prev.updatedAt) : "unknown";
  const noun = total === 1 ? "message" : "messages";
  const header = `Summary of ${total} earlier ${noun} (${from !== null ? `${from} to ` : "up to "}${to}):`;
  return fitSummary(header, current, input.maxTokens, count);
}

function messageLabel(m: Message, toolNames: ReadonlyMap<string, string>): string {
  if (m.role === "tool") {
    const name = m.toolCallId === undefined ? undefined : toolNames.get(m.toolCallId);
    return `[tool${name !== undefined ? ` ${name}` : ""}${m.sender ? ` ${m.sender}` : ""}]`;
  }
  return `[${m.role}${m.sender ? ` ${m.sender}` : ""}]`;
}

/** The speaker of a label, "[user alice]" → "user alice". */
function speakerOf(label: string): string {
  return /^\[([^\]]*)\]/.exec(label)?.[1] ?? "";
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

/** "2025-01-02T10:03:04.000Z" → "2025-01-02T10:03Z", from the data, never the clock. */
function minute(iso: string): string {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? iso : `${new Date(ms).toISOString().slice(0, 16)}Z`;
}
