import { prng } from "../test/helpers/context-fixtures.js";

// Synthetic conversations for the summary evaluation: facts of many kinds,
// each phrased one of several ways and dropped into a stream of varied filler
// (small talk, questions and answers, plans without identifiers). Seeded, so a
// run replays exactly; nothing here is shaped after the summarizer's rules.

/** A planted fact: the value the model must still be able to see, and how it was said. */
export interface PlantedFact {
  kind: string;
  /** What the fact is about, e.g. "the dentist in Porto". */
  subject: string;
  /** The current value (the latest, when the fact was updated). */
  value: string;
  /** Earlier values a later message replaced. */
  replaced: string[];
  /** Turn of the first statement. */
  turn: number;
}

/** One message of a generated conversation. */
export interface CorpusMessage {
  role: "user" | "assistant";
  content: string;
}

/** A generated conversation with its planted facts. */
export interface Corpus {
  messages: CorpusMessage[];
  facts: PlantedFact[];
}

/** Deterministic PRNG (mulberry32), the one the property tests replay from a seed. */
export const rng = prng;

type Rng = ReturnType<typeof rng>;

const PLACES = ["Lisbon", "Porto", "Berlin", "Leeds", "Osaka", "Denver", "Lyon", "Bergen", "Austin", "Krakow", "Seville", "Dublin", "Turin", "Quebec", "Perth", "Ghent"];
const PEOPLE = ["Maria", "Tom", "Aiko", "Dr. Okafor", "Priya", "Lukas", "Sofia", "Mr. Chen", "Grace", "Omar", "Ines", "Pavel"];
const THINGS = ["dentist", "landlord", "plumber", "accountant", "school office", "vet", "insurer", "gym", "bike shop", "print shop", "caterer", "lawyer"];
const ORGS = ["Acme Inc.", "Northwind Ltd.", "Globex", "Initech", "Umbrella Corp.", "Hooli", "Stark Logistics", "Wayne Foods"];

const d = (r: Rng, n: number): string => Array.from({ length: n }, () => String(r.int(0, 9))).join("");
const L = (r: Rng, n: number): string => Array.from({ length: n }, () => r.pick([..."ABCDEFGHJKLMNPQRSTUVWXYZ"])).join("");
const M = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

interface Kind {
  kind: string;
  value(r: Rng): string;
  subject(r: Rng): string;
  /** Sentences stating it; {s} is the subject, {v} the value. */
  say: readonly string[];
  /** Sentences replacing it, or none when the kind does not change. */
  update?: readonly string[];
}

const KINDS: readonly Kind[] = [
  {
    kind: "phone",
    value: (r) => r.pick([`+1-${d(r, 3)}-555-${d(r, 4)}`, `+44 20 ${d(r, 4)} ${d(r, 4)}`, `+49 30 ${d(r, 6)}`, `+33 1 ${d(r, 2)} ${d(r, 2)} ${d(r, 2)} ${d(r, 2)}`, `(${d(r, 3)}) 555-${d(r, 4)}`]),
    subject: (r) => `the ${r.pick(THINGS)} in ${r.pick(PLACES)}`,
    say: ["You can reach {s} on {v}.", "The number for {s} is {v}, they pick up after nine.", "I wrote down {v} for {s}.", "If anything goes wrong, {s} said to call {v}."],
  },
  {
    kind: "email",
    value: (r) => `${r.pick(["ana", "j.doe", "bookings", "team-ops", "k.ito", "billing"])}${d(r, 2)}@${r.pick(["example.com", "northwind.io", "mail.acme.org", "globex.co.uk"])}`,
    subject: (r) => `${r.pick(PEOPLE)} from ${r.pick(ORGS)}`,
    say: ["Send the paperwork to {v}, that's {s}.", "{s} prefers e-mail: {v}.", "The contact address for {s} is {v}."],
  },
  {
    kind: "iban",
    value: (r) => r.pick([`GB${d(r, 2)} ${L(r, 4)} ${d(r, 4)} ${d(r, 4)} ${d(r, 4)} ${d(r, 2)}`, `DE${d(r, 2)} ${d(r, 4)} ${d(r, 4)} ${d(r, 4)} ${d(r, 4)} ${d(r, 2)}`]),
    subject: (r) => `the refund from ${r.pick(ORGS)}`,
    say: ["The IBAN for {s} is {v}.", "Please use {v} for {s}.", "Bank details for {s}: {v}."],
  },
  {
    kind: "code",
    value: (r) => r.pick([`PO-20${d(r, 2)}-${d(r, 6)}`, `RSV-${d(r, 4)}-${L(r, 2)}`, `OPS-${d(r, 4)}`, `INV-${d(r, 4)}-${d(r, 3)}`, `CASE_${d(r, 5)}`]),
    subject: (r) => r.pick(["the purchase order", "the hotel reservation", "the support ticket", "the warranty claim", "the invoice"]) + ` for ${r.pick(PLACES)}`,
    say: ["The reference for {s} is {v}.", "{s} got the number {v}, keep it handy.", "I've logged {s} as {v}.", "Quote {v} whenever you ask about {s}."],
  },
  {
    kind: "flight",
    value: (r) => `${r.pick(["BA", "LH", "AF", "KL", "UA", "IB", "TP", "SK"])}${r.int(10, 2999)}`,
    subject: (r) => `the flight to ${r.pick(PLACES)}`,
    say: ["For {s} we're on {v}.", "{s} is {v}, leaving early.", "Booked {v} as {s}."],
  },
  {
    kind: "pnr",
    value: (r) => {
      let v = L(r, 6);
      const i = r.int(1, 5);
      v = `${v.slice(0, i)}${r.int(2, 9)}${v.slice(i + 1)}`;
      return v;
    },
    subject: (r) => `the train booking to ${r.pick(PLACES)}`,
    say: ["The booking code for {s} is {v}.", "{s} came through, confirmation {v}.", "Keep {v} — that's {s}."],
  },
  {
    kind: "url",
    value: (r) =>
      r.pick([
        `github.com/${r.pick(["acme", "globex", "initech"])}/${r.pick(["widgets", "billing", "infra", "mobile-app"])}`,
        `https://docs.${r.pick(["example.org", "acme.io"])}/${r.pick(["setup", "faq", "release-notes"])}/${d(r, 3)}`,
      ]),
    subject: (r) => `the ${r.pick(["design notes", "project page", "runbook", "onboarding guide"])} for ${r.pick(PLACES)}`,
    say: ["{s} live at {v}.", "You'll find {s} on {v}.", "Bookmark {v}, that's {s}."],
  },
  {
    kind: "tracking",
    value: (r) => r.pick([`1Z${L(r, 3)}${d(r, 11)}`, `JJD${d(r, 15)}`, `${L(r, 2)}${d(r, 9)}GB`]),
    subject: (r) => `the parcel from ${r.pick(PLACES)}`,
    say: ["The tracking number for {s} is {v}.", "{s} shipped as {v}.", "Courier says {s} is {v} in their system."],
  },
  {
    kind: "amount",
    value: (r) => r.pick([`$${r.int(1, 60)},${d(r, 3)}`, `€${r.int(20, 990)}.${d(r, 2)}`, `${r.int(100, 9000)} EUR`, `£${r.int(10, 900)}`]),
    subject: (r) => `the ${r.pick(["budget", "deposit", "quote", "fee", "estimate"])} for ${r.pick(["the offsite", "the kitchen", "the wedding", "the move", "the audit", "the trip"])} in ${r.pick(PLACES)}`,
    say: ["{s} is {v}.", "We agreed that {s} is {v} all in.", "Just so you know, {s} is {v}."],
    update: ["Update: {s} is now {v}.", "Change of plan, {s} is now {v}."],
  },
  {
    kind: "date",
    value: (r) => r.pick([`${r.int(1, 28)} ${r.pick(M)} 2026`, `2026-${String(r.int(1, 12)).padStart(2, "0")}-${String(r.int(1, 28)).padStart(2, "0")}`, `${r.pick(M)} ${r.int(1, 28)}, 2026`]),
    subject: (r) => `the ${r.pick(["appointment with", "handover to", "interview with", "meeting with"])} ${r.pick(PEOPLE)}`,
    say: ["{s} is on {v}.", "Put {s} in the calendar for {v}.", "{s} was set for {v}."],
    update: ["Sorry, {s} is now on {v}.", "They moved it: {s} is now {v}."],
  },
  {
    kind: "version",
    value: (r) => `v${r.int(1, 9)}.${r.int(0, 30)}.${r.int(0, 20)}`,
    subject: (r) => `the ${r.pick(["mobile app", "billing service", "router firmware", "CLI"])} at ${r.pick(ORGS)}`,
    say: ["{s} runs {v} now.", "We pinned {s} to {v}.", "Upgrade {s} to {v} before Friday."],
  },
  {
    kind: "host",
    value: (r) => `${r.pick(["db", "cache", "api", "build"])}-${d(r, 2)}.${r.pick(["prod", "staging", "eu"])}.${r.pick(["internal", "acme.io", "corp.net"])}`,
    subject: (r) => `the ${r.pick(["primary database", "job runner", "cache node", "API gateway"])} for ${r.pick(PLACES)}`,
    say: ["{s} is {v}.", "Point the script at {v}, that's {s}.", "{s} moved to {v} last week."],
  },
  {
    kind: "path",
    value: (r) =>
      r.pick([`/etc/${r.pick(["nginx", "app", "cron.d"])}/${r.pick(["site", "main", "backup"])}${d(r, 2)}.conf`, `~/projects/${r.pick(["tax", "trip", "thesis"])}/${r.pick(["notes", "budget", "draft"])}-${d(r, 2)}.md`]),
    subject: (r) => `the ${r.pick(["config", "notes", "draft"])} for ${r.pick(PLACES)}`,
    say: ["{s} is in {v}.", "I saved {s} as {v}.", "Edit {v} — that holds {s}."],
  },
];

const OPENERS = ["", "", "", "Oh, and ", "By the way, ", "For the record: ", "One more thing. ", "Before I forget, "];
const SMALL = [
  "Thanks, that's really helpful.",
  "Haha, fair enough.",
  "Okay, sounds good.",
  "I'll think about it over lunch.",
  "The weather has been awful this week.",
  "Sorry for the slow reply, busy morning.",
  "Let me check with my partner first.",
  "That makes sense to me.",
  "Can you explain that again more simply?",
  "I'm not sure I follow.",
  "Great, one less thing to worry about.",
  "Honestly I keep forgetting these things.",
  "My cat just walked over the keyboard.",
  "Coffee first, then decisions.",
  "We had a lovely dinner in {p} last time.",
  "Is it usually this complicated?",
  "I read somewhere that {p} is nice in spring.",
  "No rush on any of this.",
  "Hmm, let me get back to you on that.",
  "Appreciate the patience!",
];
const REPLIES = [
  "Of course, happy to help.",
  "Sure, here's a simpler way to put it: one step at a time.",
  "Good question; it depends on the season, mostly.",
  "No problem, take your time.",
  "That's a common worry, and it usually works out.",
  "I'd suggest writing it down somewhere safe.",
  "{p} is lovely in spring, yes.",
  "Understood. Let me know when you have an answer.",
  "It can feel complicated, but we'll go through it together.",
  "Noted, nothing to do for now.",
  "Sounds like a plan.",
  "I can draft a checklist if you like.",
  "Happy to wait until you've checked.",
];

// Composed small talk: thousands of distinct sentences, some with plain quantities, so filler is not one repeated line.
const WHO = ["My sister", "The kids", "Our neighbour", "My manager", "The whole team", "My flatmate", "Grandma", "A friend from school"];
const DID = ["finally finished", "keeps talking about", "is excited about", "complained about", "spent the afternoon on", "wants to try", "gave up on", "recommended"];
const WHAT = [
  "the garden",
  "that new series",
  "the quarterly report",
  "a pottery class",
  "the football match",
  "a recipe for lentil soup",
  "the old bike",
  "a podcast about history",
  "the jigsaw puzzle",
  "learning Spanish",
];
const WHEN = ["", " yesterday", " this morning", " last weekend", " again", " for about 20 minutes", " for 3 hours", " twice this week"];
const ASK = ["Do you think {o} is worth it?", "Have you heard of {o}?", "Is {o} hard to get into?", "Would you bother with {o}?"];
const ANSWER = ["It depends, but {o} is usually worth a try.", "Plenty of people enjoy {o}; start small.", "{O} is easier than it looks.", "I'd give {o} a go if you have a free evening."];
const REACT = ["That sounds like {o} kept everyone busy.", "Ha, {o} always seems to come up.", "Nice, {o} can be a good distraction.", "Sounds like a full week with {o}."];

/** A filler message pair (user, assistant) built from parts. */
function chatter(r: Rng): [string, string] {
  const o = r.pick(WHAT);
  const fillO = (t: string): string => t.replace("{o}", o).replace("{O}", o.charAt(0).toUpperCase() + o.slice(1));
  if (r.chance(0.3)) return [fillO(r.pick(ASK)), fillO(r.pick(ANSWER))];
  return [`${r.pick(WHO)} ${r.pick(DID)} ${o}${r.pick(WHEN)}.`, fillO(r.pick(REACT))];
}

function fill(r: Rng, t: string): string {
  return t.replace(/\{p\}/g, r.pick(PLACES));
}

/** A conversation of `turns` user/assistant exchanges with `factCount` facts planted at random turns, some later updated. */
export function generateConversation(turns: number, factCount: number, seed: number): Corpus {
  const r = rng(seed);
  const facts: PlantedFact[] = [];
  const planned = new Map<number, Array<{ fact: PlantedFact; text: string; by: "user" | "assistant" }>>();
  const subjects = new Set<string>();
  const plan = (turn: number, item: { fact: PlantedFact; text: string; by: "user" | "assistant" }): void => {
    const list = planned.get(turn) ?? [];
    list.push(item);
    planned.set(turn, list);
  };
  while (facts.length < factCount) {
    const k = r.pick(KINDS);
    const subject = k.subject(r);
    // Two facts about the same subject would be one fact updated; keep subjects distinct.
    if (subjects.has(subject)) continue;
    subjects.add(subject);
    const value = k.value(r);
    const turn = r.int(0, Math.max(0, turns - 2));
    const fact: PlantedFact = { kind: k.kind, subject, value, replaced: [], turn };
    facts.push(fact);
    plan(turn, { fact, text: phrase(r.pick(k.say), subject, value), by: r.chance(0.8) ? "user" : "assistant" });
    if (k.update !== undefined && r.chance(0.35) && turn < turns - 3) {
      const later = r.int(turn + 1, turns - 2);
      const next = k.value(r);
      if (next === value) continue;
      fact.replaced.push(value);
      fact.value = next;
      plan(later, { fact, text: phrase(r.pick(k.update), subject, next), by: "user" });
    }
  }
  const messages: CorpusMessage[] = [];
  for (let t = 0; t < turns; t++) {
    const items = planned.get(t) ?? [];
    const user: string[] = [];
    const assistant: string[] = [];
    const [talk, reply] = chatter(r);
    const composed = r.chance(0.5);
    if (r.chance(0.5)) user.push(composed ? talk : fill(r, r.pick(SMALL)));
    for (const it of items) (it.by === "user" ? user : assistant).push(lead(r.pick(OPENERS), it.text));
    if (user.length === 0 || r.chance(0.3)) user.push(composed && !user.includes(talk) ? talk : fill(r, r.pick(SMALL)));
    assistant.push(composed && user.includes(talk) ? reply : fill(r, r.pick(REPLIES)));
    if (r.chance(0.3)) assistant.unshift(fill(r, r.pick(REPLIES)));
    messages.push({ role: "user", content: user.join(" ") }, { role: "assistant", content: assistant.join(" ") });
  }
  return { messages, facts };
}

function phrase(template: string, subject: string, value: string): string {
  const s = template.replace("{s}", subject).replace("{v}", value);
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** Joins an opener ("By the way, ") to a sentence, lower-casing its first word unless that is a name or "I". */
function lead(opener: string, sentence: string): string {
  if (opener === "" || /[.:] $/.test(opener)) return `${opener}${sentence}`;
  const first = /^\S+/.exec(sentence)?.[0] ?? "";
  const keep = /^I(?:'|$)/.test(first) || PEOPLE.some((p) => sentence.startsWith(p));
  return `${opener}${keep ? sentence : sentence.charAt(0).toLowerCase() + sentence.slice(1)}`;
}
