// Shrinking a summary to its token budget. The least useful notes go first
// (small talk, repeats, plain quantities, identifier-free items), then the
// replaced values ("(was X)") oldest first, then notes naming a strong
// identifier are cut to the clauses that carry it, and only then are the
// oldest of those dropped.
import { isStrongKind, type FoundIdentifier } from "./_identifiers.js";
import { hasStrongId, renderNote, renderSummary, TITLES, type Note, type SectionId } from "./_notes.js";

/** Drop ranks: lower goes first. */
const Rank = { Chatter: 0, Repeat: 1, Weak: 2, Plain: 3, Strong: 4, Keep: 5 } as const;
type Rank = (typeof Rank)[keyof typeof Rank];

/** Cuts `text` to at most `max` characters, keeping every identifier: first whole clauses that carry one, then windows around each. */
export function compressText(text: string, ids: readonly FoundIdentifier[], max: number): string {
  if (text.length <= max) return text;
  const values = ids.map((i) => i.value).filter((v) => text.includes(v));
  if (values.length === 0) return clip(text, max);
  const clauses = text.split(/(?<=[,;:])\s+|\s+(?=[—–]\s)|\s+(?=(?:and|but|which|so)\s)/);
  const first = clauses[0] ?? "";
  const carrying = clauses.filter((c) => values.some((v) => c.includes(v)));
  const lead = carrying[0] === first || first.length > 60 ? [] : [first];
  const joined = [...lead, ...carrying].join(" … ");
  if (joined.length <= max && values.every((v) => joined.includes(v))) return joined;
  // Windows of context around each identifier, merged when they touch.
  const pad = Math.max(12, Math.floor((max - values.join("").length) / (2 * values.length)));
  const spans: Array<[number, number]> = [];
  for (const v of values) {
    const at = text.indexOf(v);
    spans.push([Math.max(0, at - pad), Math.min(text.length, at + v.length + pad)]);
  }
  spans.sort((a, b) => a[0] - b[0]);
  const merged: Array<[number, number]> = [];
  for (const s of spans) {
    const last = merged[merged.length - 1];
    if (last !== undefined && s[0] <= last[1]) last[1] = Math.max(last[1], s[1]);
    else merged.push([s[0], s[1]]);
  }
  return merged
    .map(([a, b]) => `${a > 0 ? "…" : ""}${text.slice(a, b).trim()}${b < text.length ? "…" : ""}`)
    .join(" ")
    .replace(/……/g, "…");
}

/** Shortens to at most `max` characters without splitting a surrogate pair; the ellipsis marks the cut. */
export function clip(s: string, max: number): string {
  const chars = Array.from(s);
  return chars.length <= max
    ? s
    : `${chars
        .slice(0, max - 1)
        .join("")
        .trimEnd()}…`;
}

function ranks(notes: readonly Note[]): Map<Note, Rank> {
  const out = new Map<Note, Rank>();
  const seen = new Set<string>();
  for (const n of [...notes].sort((a, b) => b.order - a.order)) {
    // Newest first, so the latest mention of a fact is the one kept and older repeats go.
    const strong = n.ids.filter((i) => isStrongKind(i.kind)).map((i) => i.value);
    let rank: Rank;
    if (n.section === "about" && n.text.startsWith("Participants:")) rank = Rank.Keep;
    else if (strong.length > 0) rank = strong.every((v) => seen.has(v)) ? Rank.Repeat : Rank.Strong;
    else if (n.section === "notes") rank = Rank.Chatter;
    else if (n.section === "facts") rank = Rank.Weak;
    else rank = Rank.Plain;
    for (const v of strong) seen.add(v);
    out.set(n, rank);
  }
  return out;
}

/** Renders `notes` under `header`, dropping and compressing until the text fits `maxTokens`. */
export function fitSummary(header: string, notes: readonly Note[], maxTokens: number, count: (text: string) => number): string {
  const kept = new Set(notes);
  const rank = ranks(notes);
  const cost = new Map(notes.map((n) => [n, count(`${renderNote(n)}\n`)]));
  const sectionSize = new Map<SectionId, number>();
  for (const n of notes) sectionSize.set(n.section, (sectionSize.get(n.section) ?? 0) + 1);
  let estimate = count(`${header}\n`);
  for (const n of notes) estimate += cost.get(n) ?? 0;
  for (const [s, size] of sectionSize) if (size > 0) estimate += count(`${TITLES[s]}\n`);

  const victims = [...notes].sort((a, b) => (rank.get(a) ?? 0) - (rank.get(b) ?? 0) || a.order - b.order);
  let next = 0;
  let compressed = false;
  const drop = (): boolean => {
    const v = victims[next];
    if (v === undefined) return false;
    if (!compressed && (rank.get(v) ?? 0) >= Rank.Strong) {
      compressed = true;
      // Replaced values go next, the oldest first, then strong notes are cut to their identifier clauses.
      for (const n of [...kept].filter((k) => k.was.length > 0).sort((a, b) => a.order - b.order)) {
        if (estimate <= maxTokens) return true;
        n.was = [];
        const c = count(`${renderNote(n)}\n`);
        estimate -= (cost.get(n) ?? 0) - c;
        cost.set(n, c);
      }
      for (const n of victims.slice(next)) {
        if (estimate <= maxTokens) return true;
        if (!hasStrongId(n)) continue;
        const short = compressText(n.text, n.ids, 90);
        if (short === n.text) continue;
        n.text = short;
        const c = count(`${renderNote(n)}\n`);
        estimate -= (cost.get(n) ?? 0) - c;
        cost.set(n, c);
      }
      if (estimate <= maxTokens) return true;
    }
    next++;
    kept.delete(v);
    estimate -= cost.get(v) ?? 0;
    const left = (sectionSize.get(v.section) ?? 1) - 1;
    sectionSize.set(v.section, left);
    if (left === 0) estimate -= count(`${TITLES[v.section]}\n`);
    return true;
  };
  while (estimate > maxTokens && drop()) {
    // Sum of parts first: cheap, and close to the real count.
  }
  // Token boundaries can merge across lines, so confirm on the rendered text.
  let text = renderSummary(
    header,
    notes.filter((n) => kept.has(n)),
  );
  while (count(text) > maxTokens && next < victims.length) {
    drop();
    text = renderSummary(
      header,
      notes.filter((n) => kept.has(n)),
    );
  }
  return text;
}
