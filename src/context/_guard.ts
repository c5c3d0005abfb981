// Checks a model-written summary against what it had to keep. A model may
// paraphrase, but an order number or phone number it dropped is gone for
// good once the messages leave the active history, so those are put back
// verbatim with the sentence that gives them meaning.
import { compressText } from "./_fit.js";
import { findIdentifiers } from "./_identifiers.js";
import { makeNote, parseSummary, splitSentences, supersededNotes, TITLES, type Note } from "./_notes.js";
import type { SummarizeInput } from "./summarizer-types.js";
import { estimateTokens } from "./tokens.js";

/** What to do with identifiers a model's summary lost: put them back ("strict") or accept the reply as written ("off"). */
export type IdentifierPolicy = "strict" | "off";

/** A model summary refused by {@link guardSummary}; the caller falls back to the extractive summarizer. */
export class RejectedSummary extends Error {}

/**
 * Returns the model's summary with lost identifiers restored under a "Facts:"
 * heading, or throws {@link RejectedSummary} when the reply is empty, over
 * `maxTokens`, lost more identifiers than it kept, or cannot fit them back.
 */
export function guardSummary(reply: string, input: SummarizeInput, policy: IdentifierPolicy): { text: string; restored: number } {
  const count = input.countTokens ?? estimateTokens;
  const text = reply.trim();
  if (text === "") throw new RejectedSummary("summary rejected: it is empty");
  const tokens = count(text);
  if (tokens > input.maxTokens) throw new RejectedSummary(`summary rejected: ${tokens} tokens, over its limit of ${input.maxTokens}`);
  if (policy === "off") return { text, restored: 0 };

  const sources = candidateNotes(input);
  const stale = supersededNotes(sources);
  // Newest sentence first, so the one restored is the latest statement of that identifier.
  const sentenceOf = new Map<string, Note>();
  for (const n of [...sources].reverse()) {
    for (const id of n.ids) if (!sentenceOf.has(id.value) && !stale.has(n)) sentenceOf.set(id.value, n);
  }
  const missing = [...sentenceOf.keys()].filter((id) => !text.includes(id));
  const kept = sentenceOf.size - missing.length;
  if (missing.length === 0) return { text, restored: 0 };
  if (missing.length > kept) throw new RejectedSummary(`summary rejected: it lost ${missing.length} of ${sentenceOf.size} identifiers`);

  const lines: string[] = [];
  const added = new Set<Note>();
  for (const id of missing) {
    const note = sentenceOf.get(id);
    if (note === undefined || added.has(note)) continue;
    added.add(note);
    lines.push(`- ${note.label !== "" ? `${note.label} ` : ""}${note.text}`);
  }
  let restored = `${text}\n${TITLES.facts}\n${lines.join("\n")}`;
  if (count(restored) > input.maxTokens) {
    // Clauses that carry the identifiers are enough when room is short.
    const short = [...added].map(
      (n) =>
        `- ${n.label !== "" ? `${n.label} ` : ""}${compressText(
          n.text,
          n.ids.filter((i) => missing.includes(i.value)),
          90,
        )}`,
    );
    restored = `${text}\n${TITLES.facts}\n${short.join("\n")}`;
  }
  if (count(restored) > input.maxTokens) {
    throw new RejectedSummary(`summary rejected: restoring the ${missing.length} identifiers it lost would exceed its limit of ${input.maxTokens} tokens`);
  }
  return { text: restored, restored: missing.length };
}

/** Sentences that name an identifier, from the previous summary and the folded messages, oldest first. */
function candidateNotes(input: SummarizeInput): Note[] {
  const out: Note[] = [];
  let order = 0;
  if (input.previous !== null) for (const n of parseSummary(input.previous.text).notes) if (n.ids.length > 0) out.push({ ...n, order: order++ });
  for (const m of input.messages) {
    const label = `[${m.role}${m.sender ? ` ${m.sender}` : ""}]`;
    for (const s of splitSentences(m.content)) {
      if (findIdentifiers(s).length === 0) continue;
      const note = makeNote("facts", label, s, order++);
      note.text = compressText(s, note.ids, 240);
      out.push(note);
    }
    for (const c of m.toolCalls ?? []) if (findIdentifiers(c.arguments).length > 0) out.push(makeNote("facts", label, `tool call: ${c.name} ${c.arguments}`, order++));
  }
  return out;
}
