// The rolling summary's sections and their lines ("notes"): how a sentence is
// classified, how a written summary is parsed back for the next roll, and how
// a note is rendered. Parsing and rendering are inverse, so a summary keeps
// its structure however many times it rolls.
import { findIdentifiers, isStrongKind, type FoundIdentifier, type IdentifierKind } from "./_identifiers.js";
import { TextMemo } from "./_memo.js";
import { splitSentences } from "./_sentences.js";

/** Sections of the summary, in rendering order. */
export type SectionId = "about" | "preferences" | "decisions" | "open" | "facts" | "notes";

/** Section titles as rendered; also the headings the model-backed summarizer is asked for. */
export const TITLES: Record<SectionId, string> = {
  about: "Who and what:",
  preferences: "Preferences and constraints:",
  decisions: "Decisions:",
  open: "Open questions and pending tasks:",
  facts: "Facts:",
  notes: "Notes:",
};

/** Rendering order of the sections. */
export const SECTION_ORDER: readonly SectionId[] = ["about", "preferences", "decisions", "open", "facts", "notes"];

// Titles of the earlier format, read so summaries stored before this one still roll.
const LEGACY: Record<string, SectionId> = {
  "Earlier summary:": "notes",
  "Open questions:": "open",
  "Identifiers:": "facts",
};
const TITLE_TO_SECTION = new Map<string, SectionId>([...Object.entries(TITLES).map(([k, v]) => [v.toLowerCase(), k as SectionId] as const), ...Object.entries(LEGACY).map(([k, v]) => [k.toLowerCase(), v] as const)]);

/** One line of the summary. */
export interface Note {
  section: SectionId;
  /** "[user alice]", "[tool lookup]", or "" when unknown (a foreign summary). */
  label: string;
  text: string;
  ids: FoundIdentifier[];
  /** Chronological rank: older notes have lower ranks. */
  order: number;
  /** Values an explicit update in this note replaced, newest first; rendered as "(was X; Y)". */
  was: string[];
  /** True for a note read back from the previous summary: its updates were applied when it was new. */
  rolled?: boolean;
}

/** First words of a summary a key's new session took over from its previous one (the line ends "…, last active T):"). */
export const CARRIED_MARK = "Carried over from the previous session of this key (";

/** Header line: "Summary of N earlier messages (FROM to TO):". */
export const HEADER = /^Summary of (\d+) earlier messages? \((?:(\S+) to |up to )(\S+)\):$/;

const DECISION = /\b(?:decided|decide to|decision|agreed|agree to|we'll go|we will go|let's go with|let's use|going with|go with|settled on|chose|chosen|will use|approved|confirmed|booked|switched to|opted for)\b/i;
const PENDING =
  /\b(?:remind me|to-?do|pending|follow up|follow-up|still need|needs? to be|waiting (?:for|on)|awaiting|next step|will send|i'll send|i will send|i'll check|i will check|please (?:send|check|call|book|cancel|update|remind)|can you (?:send|check|call|book|cancel|update|remind)|due (?:by|on)|by (?:monday|tuesday|wednesday|thursday|friday|tomorrow|the end of))\b/i;
const PREFERENCE =
  /\b(?:i prefer|we prefer|i'd prefer|i would prefer|prefer(?:s|red)? |i'd rather|i would rather|i like|i love|i hate|i don't like|i do not like|i can't|i cannot|i'm allergic|allergic to|vegetarian|vegan|gluten|always|never|must not|mustn't|must be|no later than|no more than|at most|at least|budget|deadline|don't want|do not want|only (?:use|book|fly|want)|please (?:always|never|avoid|keep|use)|avoid)\b/i;

/** Classifies one sentence of a user or assistant message; null when it is filler. */
export function classifySentence(sentence: string, role: string, ids: readonly FoundIdentifier[]): SectionId | null {
  if (DECISION.test(sentence)) return "decisions";
  if (role === "user" && PREFERENCE.test(sentence)) return "preferences";
  if (PENDING.test(sentence)) return "open";
  if (ids.length > 0) return "facts";
  return null;
}

/** True when the note names at least one strong identifier (a code, contact, amount, date …). */
export function hasStrongId(note: Pick<Note, "ids">): boolean {
  return note.ids.some((i) => isStrongKind(i.kind));
}

/** Makes a note, finding its identifiers. */
export function makeNote(section: SectionId, label: string, text: string, order: number): Note {
  return { section, label, text, ids: findIdentifiers(text), order, was: [] };
}

/** The line as written in the summary. */
export function renderNote(n: Note): string {
  return `- ${n.label !== "" ? `${n.label} ` : ""}${n.text}${n.was.length > 0 ? ` (was ${n.was.join("; ")})` : ""}`;
}

// The replaced values at the end of a line; greedy, so a value with brackets ("(415) 555-0123") stays whole.
const WAS = / \(was (.+)\)$/;

/** Splits "text (was X; Y)" into the text and the replaced values. */
export function splitWas(line: string): { text: string; was: string[] } {
  const m = WAS.exec(line);
  if (m === null) return { text: line, was: [] };
  return { text: line.slice(0, m.index), was: (m[1] ?? "").split("; ").filter((v) => v !== "") };
}

/** Renders header and sections, skipping empty ones. */
export function renderSummary(header: string, notes: readonly Note[]): string {
  const out = [header];
  for (const section of SECTION_ORDER) {
    const items = notes.filter((n) => n.section === section).sort((a, b) => a.order - b.order);
    if (items.length === 0) continue;
    out.push(TITLES[section]);
    for (const n of items) out.push(renderNote(n));
  }
  return out.join("\n");
}

/** A parsed summary: its header fields when it has ours, and its notes. */
export interface ParsedSummary {
  own: boolean;
  from: string | null;
  notes: Note[];
}

/**
 * Parses a summary back into notes. Our own (or one that kept our section
 * headings) parses line by line; other prose is split into sentences, each a
 * fact when it names an identifier and a note otherwise, so nothing it said
 * is lost to the next roll.
 */
export function parseSummary(text: string): ParsedSummary {
  let rows = text.split("\n");
  // A carried-over summary's first line becomes one "Who and what" line; an older one it rolled is dropped, so carrying over again and again adds nothing.
  const carried = rows[0]?.startsWith(CARRIED_MARK) === true ? (rows[0] ?? "").trim().replace(/:$/, "") : null;
  if (carried !== null) rows = rows.slice(1);
  const head = HEADER.exec(rows[0]?.trim() ?? "");
  const structured =
    head !== null ||
    rows.some((r) =>
      TITLE_TO_SECTION.has(
        r
          .trim()
          .replace(/^#+\s*/, "")
          .toLowerCase(),
      ),
    );
  const notes: Note[] = [];
  let order = 0;
  if (carried !== null) notes.push({ section: "about", label: "", text: carried, ids: findIdentifiers(carried), order: order++, was: [], rolled: true });
  if (!structured) {
    for (const s of splitSentences(rows.join("\n"))) {
      const ids = findIdentifiers(s);
      notes.push({ section: ids.length > 0 ? "facts" : "notes", label: "", text: s, ids, order: order++, was: [], rolled: true });
    }
    return { own: false, from: null, notes };
  }
  let section: SectionId = "notes";
  for (const raw of head !== null ? rows.slice(1) : rows) {
    const row = raw.trim();
    if (row === "") continue;
    const title = TITLE_TO_SECTION.get(row.replace(/^#+\s*/, "").toLowerCase());
    if (title !== undefined) {
      section = title;
      continue;
    }
    const body = row.replace(/^(?:[-*•]|\d+[.)])\s+/, "");
    const label = /^\[[^\]]*\]/.exec(body)?.[0] ?? "";
    const { text: rest, was } = splitWas(body.slice(label.length).trim());
    if (rest === "" || (carried !== null && rest.startsWith(CARRIED_MARK))) continue;
    const ids = findIdentifiers(rest);
    // An identifier-only line of the earlier format stays a fact.
    const target = section === "notes" && ids.length > 0 && head === null ? "facts" : section;
    notes.push({ section: target, label, text: rest, ids, order: order++, was, rolled: true });
  }
  return { own: head !== null, from: head?.[2] ?? null, notes };
}

const SLOT_IS = /\b(?:the|my|our|your|his|her|their)\s+((?:[\p{L}\d'’-]+\s+){0,5}?[\p{L}\d'’-]+)\s+(?:is|are|was|were|has been|have been|will be)\s+(?:now\s+|still\s+)?/iu;
const SLOT_CHANGED = /\b(?:changed|moved|updated|raised|lowered|increased|reduced|set|bumped|rescheduled|replaced)\s+(?:the|my|our|your)\s+((?:[\p{L}\d'’-]+\s+){0,4}?[\p{L}\d'’-]+)\s+(?:to|from)\b/iu;

/** What a fact is about ("budget", "delivery date"), so a later value for the same thing can supersede it. */
export function slotOf(text: string): string | null {
  return slots.remember(text, () => {
    const m = SLOT_CHANGED.exec(text) ?? SLOT_IS.exec(text);
    const slot = m?.[1]?.toLowerCase().replace(/[’']s$/, "");
    return slot === undefined || slot.length < 3 ? null : slot;
  });
}

// What depends on a note's text alone is remembered across folds.
const slots = new TextMemo<string | null>(4096);
const topics = new TextMemo<{ words: Set<string>; names: Set<string> }>(4096);

// An explicit update: the speaker says the value changed or corrects it. A second statement of the
// same shape without one of these is another thing of the same kind, never a replacement.
const UPDATE_CUE = /\b(?:now|changed|changing|moved|instead|no longer|correction|corrected|actually|rescheduled|updated?|switched|replaced|i meant|should (?:be|have been|read))\b/i;
const FILLER_WORDS = new Set(
  "that this with from have been will your what when where which there their about into just also then than they them were would could should please sorry update updated change changed changing moved instead actually longer rescheduled correction corrected switched replaced meant".split(
    " ",
  ),
);

// Three-letter words that say nothing about the subject ("bug", "fee", "app" do).
const SHORT_WORDS = new Set("the and for but was not are you our its his her has had can may one two who why how all any out get got set put yes now new use per via off too she him they".split(" "));

/** True when the note says it changes or corrects a value. */
export function isUpdate(text: string): boolean {
  return UPDATE_CUE.test(text);
}

/** Distinctive words of a note, identifiers left out (what it is about), and the names among them. */
function topicWords(n: Note): { words: Set<string>; names: Set<string> } {
  // The identifiers are found in the text itself, so the text alone decides the result.
  return topics.remember(n.text, () => computeTopicWords(n));
}

// One opener: a short clause ending in a comma, semicolon or colon.
const OPENER = /^[^,;:]{1,30}[,;:]\s+(?=\S)/u;

function computeTopicWords(n: Note): { words: Set<string>; names: Set<string> } {
  // Openers such as "Before I forget," or "Sorry," say nothing about the subject. Taken one at a
  // time, so "Work stuff: Actually, the hotel is X, …" loses its openers and keeps its subject.
  let text = n.text;
  for (let i = 0; i < 3; i++) {
    const lead = OPENER.exec(text)?.[0];
    if (lead === undefined || n.ids.some((id) => lead.includes(id.value)) || lead.split(/\s+/).length > 8) break;
    text = text.slice(lead.length);
  }
  for (const id of n.ids) text = text.split(id.value).join(" ");
  const words = new Set((text.toLowerCase().match(/\p{L}{3,}/gu) ?? []).filter((w) => !FILLER_WORDS.has(w) && !SHORT_WORDS.has(w)));
  // Capitalised words not opening a sentence or clause: places and people that tell two facts apart.
  const names = new Set((text.match(/(?<=[\p{Ll}\d,)] )\p{Lu}\p{L}{2,}/gu) ?? []).map((w) => w.toLowerCase()));
  return { words, names };
}

/** True when one set holds the other: "Grace" and "Grace" agree, "Perth" and "Ghent" do not. */
function nested(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  return [...small].every((x) => large.has(x));
}

/**
 * Explicit updates among `notes`, as earlier note → the later note that replaced
 * it. A later note replaces an earlier one only when it says so (an update cue:
 * "now", "changed", "instead", "moved", a correction) and names the same thing:
 * the same subject phrase before "is" ("the budget is now $15,000"), or the
 * same names and every word of the shorter of the two. Two statements of the
 * same shape without a cue are two things. Notes read back from the previous
 * summary replace nothing: their updates were applied when they were new.
 */
export function findUpdates(notes: readonly Note[]): Map<Note, Note> {
  const out = new Map<Note, Note>();
  const bySlot = new Map<string, Note>();
  const seen: Note[] = [];
  const strong = [...notes].filter(hasStrongId).sort((a, b) => a.order - b.order);
  for (const n of strong) {
    const update = n.rolled !== true && isUpdate(n.text);
    // "…, not X", "use Y instead of X": the update names the value it replaces, which says
    // which earlier statement it is about more surely than any wording.
    const named = update ? namedOld(n, seen, out) : undefined;
    if (named !== undefined) out.set(named, n);
    else if (update) {
      const mine = topicWords(n);
      let best: Note | undefined;
      let bestScore = 0;
      let named: Note | undefined;
      let namedScore = 0;
      for (const e of seen) {
        if (out.has(e) || !replaces(n, e)) continue;
        const theirs = topicWords(e);
        if (!nested(mine.names, theirs.names)) continue;
        const shared = [...mine.words].filter((w) => theirs.words.has(w));
        const score = shared.length / Math.max(1, Math.min(mine.words.size, theirs.words.size));
        // Every word of the shorter of the two, and two at least unless it says only one; the closest wording wins, then the latest.
        const enough = shared.length >= 2 || Math.min(mine.words.size, theirs.words.size) === 1;
        if (enough && score >= 1 && score >= bestScore) [best, bestScore] = [e, score];
        // Otherwise a word only these two say among values of the same kind is the thing's name:
        // "the analytics server moved to …" after "point the deploy for analytics at …".
        else if (shared.length > 0) {
          const b = nameScore(shared, e, n, seen, out);
          if (b > 0 && b >= namedScore) [named, namedScore] = [e, b];
        }
      }
      const chosen = best ?? named;
      if (chosen !== undefined) out.set(chosen, n);
    }
    seen.push(n);
    const slot = slotOf(n.text);
    if (slot === null) continue;
    // A user's "my phone number" is theirs alone in a group: a user replaces their own value or
    // one the assistant stated; the assistant may restate anyone's.
    const own = `${n.label}\u0000${slot}`;
    const isUser = n.label.startsWith("[user");
    const before = isUser ? (bySlot.get(own) ?? bySlot.get(`shared\u0000${slot}`)) : bySlot.get(`any\u0000${slot}`);
    if (update && before !== undefined && !out.has(before) && replaces(n, before)) out.set(before, n);
    bySlot.set(own, n);
    if (!isUser) bySlot.set(`shared\u0000${slot}`, n);
    bySlot.set(`any\u0000${slot}`, n);
  }
  return out;
}

// Words that put the value after them aside: "not X", "instead of X", "changed from X to …".
const CONTRAST = /(?:\bnot|\binstead of|\brather than|\bin place of|\breplac(?:ing|es|ed)|\bfrom|\bwas|\bno longer)\s+(?:the\s+|old\s+|previous\s+)*$/i;

/**
 * The latest current note whose value `later` names as the one it replaces
 * ("Actually, the hotel is KP3153Q, not ZBZ-032-FH"), when `later` brings a
 * new value of the same kind; undefined otherwise.
 */
function namedOld(later: Note, seen: readonly Note[], gone: ReadonlyMap<Note, Note>): Note | undefined {
  for (const id of later.ids) {
    if (!isStrongKind(id.kind)) continue;
    const at = later.text.indexOf(id.value);
    if (at < 0 || !CONTRAST.test(later.text.slice(Math.max(0, at - 40), at))) continue;
    for (let i = seen.length - 1; i >= 0; i--) {
      const e = seen[i] as Note;
      if (!gone.has(e) && e.ids.some((x) => x.value === id.value) && replaces(later, e)) return e;
    }
  }
  return undefined;
}

/** Notes an explicit later update replaced (see {@link findUpdates}). */
export function supersededNotes(notes: readonly Note[]): Set<Note> {
  return new Set(findUpdates(notes).keys());
}

/**
 * Applies the explicit updates: the replacing note carries the old values as
 * "(was X)", and the replaced note goes, unless it names other things the
 * update did not touch ("dinner at Nopa on 12 May at 19:00" after "dinner is
 * now at 20:00"): then it stays, with the new value in place of the old.
 */
export function applyUpdates(notes: readonly Note[]): Note[] {
  const updates = findUpdates(notes);
  if (updates.size === 0) return [...notes];
  const replacedBy = new Map<Note, Note>();
  for (const [earlier, later] of [...updates].sort((a, b) => a[1].order - b[1].order || a[0].order - b[0].order)) {
    const laterValues = new Set(later.ids.map((i) => i.value));
    const fresh = later.ids.filter((i) => isStrongKind(i.kind) && !earlier.ids.some((e) => e.value === i.value));
    const old = earlier.ids.filter((i) => isStrongKind(i.kind) && !laterValues.has(i.value) && fresh.some((f) => sameFamily(i.kind, f.kind)));
    later.was = [...new Set([...old.map((i) => i.value), ...earlier.was, ...later.was])];
    const untouched = earlier.ids.filter((i) => isStrongKind(i.kind) && !laterValues.has(i.value) && !old.includes(i));
    if (untouched.length === 0) continue;
    let text = earlier.text;
    for (const o of old) text = text.split(o.value).join(fresh.find((f) => sameFamily(o.kind, f.kind))?.value ?? o.value);
    replacedBy.set(earlier, { ...makeNote(earlier.section, earlier.label, text, earlier.order), rolled: earlier.rolled === true });
  }
  const out: Note[] = [];
  for (const n of notes) {
    if (!updates.has(n)) out.push(n);
    else {
      const kept = replacedBy.get(n);
      if (kept !== undefined) out.push(kept);
    }
  }
  return out;
}

// Same kind of value, and a value the earlier note did not have: "$15,000" replaces "$12,000".
function replaces(later: Note, earlier: Note): boolean {
  const old = new Set(earlier.ids.map((i) => i.value));
  const fresh = later.ids.filter((i) => isStrongKind(i.kind) && !old.has(i.value));
  return fresh.some((f) => earlier.ids.some((e) => sameFamily(e.kind, f.kind)));
}

// The kind of a code is a guess from its shape ("EP6160H" looks like a flight number, "AVX-249-JU"
// like a reference): a booking code replaced by one of another shape is still a code.
const FAMILY: Partial<Record<IdentifierKind, string>> = { reference: "code", flight: "code", hash: "code", uuid: "code", number: "code", url: "place", host: "place" };

/** The strong kinds `later` shares with `earlier` through a new value ("host" for two host names). */
function sharedKinds(later: Note, earlier: Note): Set<IdentifierKind> {
  const out = new Set<IdentifierKind>();
  for (const f of later.ids) {
    if (!isStrongKind(f.kind)) continue;
    // A code's kind is a guess from its shape (see FAMILY): its peers are the codes of any shape.
    for (const e of earlier.ids) if (e.value !== f.value && sameFamily(e.kind, f.kind)) out.add(e.kind).add(f.kind);
  }
  return out;
}

/**
 * How surely `earlier` is the thing `later` names, by the words they share
 * that few current notes with a value of the same kind say (a name such as
 * "analytics"), less the rare words only `earlier` says (another thing's
 * name); 0 when no shared word is said by `earlier` alone among them.
 */
function nameScore(shared: readonly string[], earlier: Note, later: Note, seen: readonly Note[], gone: ReadonlyMap<Note, Note>): number {
  const kinds = sharedKinds(later, earlier);
  if (kinds.size === 0) return 0;
  const peers = seen.filter((o) => !gone.has(o) && o.ids.some((i) => kinds.has(i.kind)));
  const df = (w: string): number => Math.max(1, peers.filter((o) => topicWords(o).words.has(w)).length);
  if (!shared.some((w) => df(w) === 1)) return 0;
  const mine = topicWords(later).words;
  let score = 0;
  for (const w of shared) score += 1 / df(w);
  for (const w of topicWords(earlier).words) if (!mine.has(w)) score -= 1 / df(w);
  return score;
}

/** True when a value of kind `b` can replace one of kind `a`. */
export function sameFamily(a: IdentifierKind, b: IdentifierKind): boolean {
  return a === b || (FAMILY[a] !== undefined && FAMILY[a] === FAMILY[b]);
}

/** Sentences of a message as summary candidates. */
export { splitSentences };
