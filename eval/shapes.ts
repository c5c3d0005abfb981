import { rng, type Corpus, type CorpusMessage, type PlantedFact } from "./corpus.js";

// Conversations where many distinct things of one kind are stated in the same
// sentence shape (a dozen hotel bookings, each "My booking reference for the
// hotel in … is …"), explicit updates of some of them mixed among new ones,
// and long stretches of small talk and acknowledgements. Which shapes a
// conversation uses is drawn from its seed, so no one phrasing is the test.

type Rng = ReturnType<typeof rng>;

const d = (r: Rng, n: number): string => Array.from({ length: n }, () => String(r.int(0, 9))).join("");
const L = (r: Rng, n: number): string => Array.from({ length: n }, () => r.pick([..."ABCDEFGHJKLMNPQRSTUVWXYZ"])).join("");

const CITIES = [
  "Lisbon",
  "Porto",
  "Berlin",
  "Leeds",
  "Osaka",
  "Denver",
  "Lyon",
  "Bergen",
  "Austin",
  "Krakow",
  "Seville",
  "Dublin",
  "Turin",
  "Quebec",
  "Perth",
  "Ghent",
  "Malmo",
  "Zagreb",
  "Tallinn",
  "Bilbao",
  "Oslo",
  "Nantes",
  "Geneva",
  "Vienna",
  "Riga",
  "Sofia",
  "Cork",
  "Utrecht",
  "Basel",
  "Bologna",
];
const BUGS = [
  "login",
  "checkout",
  "search",
  "export",
  "upload",
  "signup",
  "password reset",
  "dark mode",
  "invoice PDF",
  "push notification",
  "calendar sync",
  "avatar crop",
  "CSV import",
  "two-factor",
  "map tiles",
  "audio echo",
  "cart total",
  "coupon",
  "timezone",
  "sitemap",
  "webhook retry",
  "email digest",
];
const SERVICES = [
  "billing",
  "search",
  "chat",
  "reporting",
  "auth",
  "media",
  "payments",
  "inventory",
  "analytics",
  "mailer",
  "scheduler",
  "gateway",
  "catalog",
  "ledger",
  "metrics",
  "backup",
  "notifications",
  "geo",
  "pricing",
  "recommendations",
];
const VENDORS = [
  "Acme",
  "Globex",
  "Initech",
  "Hooli",
  "Umbrella",
  "Northwind",
  "Contoso",
  "Wonka",
  "Stark",
  "Wayne",
  "Tyrell",
  "Cyberdyne",
  "Soylent",
  "Vandelay",
  "Pied Piper",
  "Aperture",
  "Gringotts",
  "Monarch",
  "Oscorp",
  "Duff",
];

interface Family {
  kind: string;
  names: readonly string[];
  /** The thing a name stands for, as a noun phrase: "the hotel in Lisbon". */
  phrase(name: string): string;
  value(r: Rng, name: string): string;
  /** Statements; {p} the phrase, {P} capitalised, {n} the bare name, {v} the value. */
  say: readonly string[];
  /** Shapes that name nothing but the kind ("The server that keeps failing is …"): such facts are never updated. */
  bare?: readonly string[];
  bareSubject?: string;
}

const FAMILIES: readonly Family[] = [
  {
    kind: "hotel",
    names: CITIES,
    phrase: (n) => `the hotel in ${n}`,
    value: (r) => r.pick([`${L(r, 2)}${d(r, 4)}${L(r, 1)}`, `HB-${d(r, 5)}`, `${L(r, 3)}-${d(r, 3)}-${L(r, 2)}`]),
    say: ["My booking reference for {p} is {v}.", "{P} is booked under {v}.", "Reservation {v} is for {p}.", "The confirmation for {p} came back as {v}.", "For {p} the booking code is {v}."],
    bare: ["My booking reference for the hotel is {v}.", "Another hotel booked, reference {v}."],
    bareSubject: "a hotel booking",
  },
  {
    kind: "flight",
    names: CITIES,
    phrase: (n) => `the flight to ${n}`,
    value: (r) => `${r.pick(["BA", "LH", "AF", "KL", "UA", "IB", "TP", "SK", "AY", "OS"])}${r.int(100, 2999)}`,
    say: ["{P} is {v}.", "For {p} I'm on {v}.", "I booked {v}, that's {p}.", "We take {v} for {p}.", "Seat confirmed on {v} for {p}."],
  },
  {
    kind: "ticket",
    names: BUGS,
    phrase: (n) => `the ${n} bug`,
    value: (r) => r.pick([`OPS-${d(r, 4)}`, `BUG-${d(r, 4)}`, `WEB-${d(r, 3)}`, `#${r.int(1000, 99999)}`]),
    say: ["Ticket {v} tracks {p}.", "{P} is filed as {v}.", "We opened {v} for {p}.", "{v} is the ticket for {p}.", "Log anything about {p} under {v}."],
    bare: ["Ticket {v} is another one from the support queue.", "Someone filed {v} this morning, no details yet."],
    bareSubject: "a support ticket",
  },
  {
    kind: "server",
    names: SERVICES,
    phrase: (n) => `the ${n} server`,
    value: (r) => `${r.pick(["app", "db", "web", "worker", "edge"])}-${d(r, 2)}.${r.pick(["prod", "staging", "eu", "us"])}.${r.pick(["internal", "corp.net", "example.io"])}`,
    say: ["{P} is {v}.", "{P} runs on {v}.", "Point the deploy for {n} at {v}.", "The host for {n} is {v}.", "SSH into {v} for {p}."],
    bare: ["The server that keeps failing is {v}.", "Another flaky box: {v}."],
    bareSubject: "a failing server",
  },
  {
    kind: "invoice",
    names: VENDORS,
    phrase: (n) => `the ${n} invoice`,
    value: (r) => r.pick([`INV-2026-${d(r, 4)}`, `${L(r, 2)}-${d(r, 6)}`, `INV${d(r, 6)}`]),
    say: ["{P} is {v}.", "Invoice {v} came from {n}.", "{P} has the number {v}.", "File {v} under {n}.", "{n} billed us on {v}."],
  },
  {
    kind: "path",
    names: SERVICES,
    phrase: (n) => `the ${n} config`,
    value: (r, n) =>
      r.pick([`/srv/${n.replace(/\s/g, "-")}/conf/main-${d(r, 2)}.yaml`, `~/work/${n.replace(/\s/g, "-")}/settings-${d(r, 2)}.toml`, `/etc/${n.replace(/\s/g, "-")}/${r.pick(["app", "site", "local"])}-${d(r, 2)}.conf`]),
    say: ["{P} lives in {v}.", "{P} is at {v}.", "I keep {p} in {v}.", "Edit {v} for {p}.", "{P} was saved as {v}."],
  },
];

// Explicit updates, the way people say them: each names the thing again.
const UPDATES = ["Correction: {p} is now {v}.", "{P} changed to {v}.", "Use {v} instead of {old} for {p}.", "{P} moved to {v}.", "Update: {p} is now {v}.", "Actually, {p} is {v}, not {old}."];

const ACKS = ["ok", "thanks!", "got it", "sure", "👍", "cool, thanks", "perfect", "yep", "noted", "ok great", "alright", "ty"];
const TALK = [
  "My {w} {did} {o} {t}.",
  "Did you see {o}? My {w} {did} it {t}.",
  "Honestly {o} is all anyone talks about here.",
  "I'm a bit tired, {o} took longer than planned.",
  "We might try {o} {t}, not sure yet.",
  "Random thought: {o} would be fun in summer.",
];
const REPLY = ["That sounds lovely.", "Ha, {o} does that to people.", "Fair enough, rest up.", "Enjoy it!", "Good luck with {o}.", "That's a nice way to spend the time.", "Understood.", "Makes sense."];
const WHO = ["sister", "neighbour", "boss", "flatmate", "cousin", "dad", "team lead", "dentist"];
const DID = ["loved", "hated", "recommended", "finished", "started", "talked about", "complained about", "skipped"];
const WHAT = [
  "the new bakery",
  "that cooking show",
  "the hiking trail",
  "a board game night",
  "the book club pick",
  "the office party",
  "a yoga class",
  "the long weekend",
  "the garden project",
  "the city marathon",
  "a pottery workshop",
  "the jazz festival",
];
const WHEN = ["yesterday", "last night", "this morning", "on Sunday", "for two hours", "for 45 minutes", "twice this week", "again"];

function smallTalk(r: Rng): [string, string] {
  if (r.chance(0.35)) return [r.pick(ACKS), r.pick(["You're welcome.", "Anytime.", "Glad to help.", "👍"])];
  const o = r.pick(WHAT);
  const fillT = (t: string): string => t.replace("{w}", r.pick(WHO)).replace("{did}", r.pick(DID)).replace(/\{o\}/g, o).replace("{t}", r.pick(WHEN));
  const user = fillT(r.pick(TALK));
  return [user.charAt(0).toUpperCase() + user.slice(1), fillT(r.pick(REPLY))];
}

function fillShape(t: string, f: Family, name: string, value: string, old = ""): string {
  const p = f.phrase(name);
  const s = t
    .replace("{P}", p.charAt(0).toUpperCase() + p.slice(1))
    .replace("{p}", p)
    .replace("{n}", name)
    .replace("{v}", value)
    .replace("{old}", old);
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/**
 * `turns` exchanges with `factCount` things stated in the shapes this seed
 * chose (one or two per kind, shared by every thing of that kind), about a
 * quarter of the named ones later updated explicitly, and the rest of the
 * turns small talk, acknowledgements and replies restating what was said,
 * in long stretches.
 */
export function generateShapedConversation(turns: number, factCount: number, seed: number): Corpus {
  const r = rng(seed * 7919 + 17);
  // The shapes of this conversation: one or two statements per kind and one or two ways of updating.
  const families = FAMILIES.map((f) => ({ f, say: pickSome(r, f.say, r.int(1, 2)), used: new Set<string>() }));
  const updates = pickSome(r, UPDATES, r.int(1, 2));
  const facts: PlantedFact[] = [];
  const planned = new Map<number, Array<{ text: string; restate: string }>>();
  const plan = (turn: number, text: string, restate: string): void => {
    const list = planned.get(turn) ?? [];
    list.push({ text, restate });
    planned.set(turn, list);
  };
  // Facts come in bursts, so long stretches between them are small talk only.
  const bursts = Array.from({ length: Math.max(3, Math.round(factCount / 6)) }, () => r.int(0, Math.max(0, turns - 3))).sort((a, b) => a - b);
  let guard = 0;
  while (facts.length < factCount && guard++ < factCount * 50) {
    const fam = r.pick(families);
    const bare = fam.f.bare !== undefined && r.chance(0.15);
    const name = bare ? "" : r.pick(fam.f.names);
    if (!bare && fam.used.has(name)) continue;
    if (!bare) fam.used.add(name);
    const value = fam.f.value(r, name);
    if (facts.some((x) => x.value === value || x.replaced.includes(value))) continue;
    const turn = Math.min(turns - 2, r.pick(bursts) + r.int(0, 6));
    const subject = bare ? (fam.f.bareSubject ?? fam.f.kind) : fam.f.phrase(name);
    const fact: PlantedFact = { kind: fam.f.kind, subject, value, replaced: [], turn };
    facts.push(fact);
    const text = bare ? fillShape(r.pick(fam.f.bare ?? []), fam.f, name, value) : fillShape(r.pick(fam.say), fam.f, name, value);
    plan(turn, text, `Noted: ${value}.`);
    if (!bare && r.chance(0.25) && turn < turns - 4) {
      const next = fam.f.value(r, name);
      if (next === value || facts.some((x) => x.value === next)) continue;
      const later = r.int(turn + 1, turns - 2);
      fact.replaced.push(value);
      fact.value = next;
      plan(later, fillShape(r.pick(updates), fam.f, name, next, value), `Updated to ${next}.`);
    }
  }
  const messages: CorpusMessage[] = [];
  for (let t = 0; t < turns; t++) {
    const items = planned.get(t) ?? [];
    if (items.length === 0) {
      const [u, a] = smallTalk(r);
      messages.push({ role: "user", content: u }, { role: "assistant", content: a });
      continue;
    }
    const user = items.map((i) => i.text);
    if (r.chance(0.3)) user.unshift(r.pick(["Quick one.", "Two things.", "Work stuff:", "Before I forget."]));
    // The assistant often says back what it was told; that is not a new fact.
    const reply = r.chance(0.5) ? items.map((i) => i.restate).join(" ") : r.pick(["Got it.", "Noted, thanks.", "All written down."]);
    messages.push({ role: "user", content: user.join(" ") }, { role: "assistant", content: reply });
  }
  return { messages, facts };
}

function pickSome<T>(r: Rng, items: readonly T[], n: number): T[] {
  const pool = [...items];
  const out: T[] = [];
  while (out.length < n && pool.length > 0) out.push(pool.splice(r.int(0, pool.length - 1), 1)[0] as T);
  return out;
}
