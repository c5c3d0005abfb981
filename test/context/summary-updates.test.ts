import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { summaryNote } from "../../src/context/build.js";
import { extractiveSummary } from "../../src/context/extractive.js";
import { estimateTokens } from "../../src/context/tokens.js";
import type { Message, Summary } from "../../src/session/types.js";
import { msg, prng } from "../helpers/context-fixtures.js";

// Phrasings here are deliberately unlike the evaluation's (eval/shapes.ts): lockers, gate codes,
// parcels and pickups, so the rules are not fitted to one corpus.

type R = ReturnType<typeof prng>;
const SITES = ["Dortmund", "Aarhus", "Namur", "Kassel", "Tartu", "Espoo", "Brno", "Graz", "Split", "Varna", "Lodz", "Kaunas"];
const ITEMS = ["tripod", "spare laptop", "first-aid kit", "drill", "projector", "tent", "ladder", "router", "camera bag", "helmet"];
const FILLER = [
  "ok",
  "cool",
  "thx",
  "Lovely weather for a walk today, we went down to the river.",
  "Ha, my nephew said the same thing about the football last night.",
  "Right, that makes sense.",
  "No worries at all, speak later.",
];

const code = (r: R, prefix: string): string => `${prefix}-${r.int(1000, 9999)}${String.fromCharCode(65 + r.int(0, 25))}`;

function asPrevious(text: string, messageCount: number): Summary {
  return { text, tokens: 0, messageCount, throughMessageId: "x", updatedAt: "2026-02-01T09:00:00.000Z", summarizer: "extractive" };
}

/** Folds `messages` 20 at a time, as the manager does, and returns the final summary. */
function roll(messages: readonly Message[], maxTokens = 4000): string {
  let previous: Summary | null = null;
  for (let i = 0; i < messages.length; i += 20) {
    const text = extractiveSummary({ previous, messages: messages.slice(i, i + 20), maxTokens });
    previous = asPrevious(text, i + 20);
  }
  return previous?.text ?? "";
}

/** The summary's lines with their "(was …)" part cut off: what it shows as current. */
function current(text: string): string[] {
  return text.split("\n").map((l) => l.replace(/ \(was .+\)$/, ""));
}

describe("summary facts and explicit updates", () => {
  for (const seed of [11, 12, 13, 14, 15]) {
    it(`keeps every one of many things stated in one sentence shape (seed ${seed})`, () => {
      const r = prng(seed);
      const shape = r.pick(["Locker {c} holds the {i}.", "The {i} is in locker {c}.", "I put the {i} into locker {c}.", "Locker for the {i}: {c}."]);
      const messages: Message[] = [];
      const codes: string[] = [];
      for (let i = 0; i < 160; i++) {
        let content = r.pick(FILLER);
        if (i % 8 === 0) {
          const c = code(r, r.pick(["LK", "BOX", "L"]));
          codes.push(c);
          content = shape.replace("{c}", c).replace("{i}", r.pick(ITEMS));
        }
        messages.push(msg(i, { role: i % 2 === 0 ? "user" : "assistant", content }));
      }
      const text = roll(messages);
      for (const c of codes) assert.ok(text.includes(c), `${c} lost (shape "${shape}")\n${text}`);
      assert.doesNotMatch(text, /\(was /);
    });
  }

  for (const seed of [21, 22, 23, 24, 25]) {
    it(`an explicit update replaces only the thing it names, and shows what it replaced (seed ${seed})`, () => {
      const r = prng(seed);
      const sites = SITES.slice(0, 8);
      const first = new Map(sites.map((s) => [s, code(r, "GATE")]));
      const messages: Message[] = sites.map((s, i) => msg(i, { role: "user", content: `The gate code for the ${s} warehouse is ${first.get(s)}.` }));
      const target = r.pick(sites);
      const fresh = code(r, "GATE");
      const update = r.pick([
        `We switched the ${target} warehouse gate code to ${fresh}.`,
        `Correction: the gate code for the ${target} warehouse should be ${fresh}.`,
        `The ${target} warehouse now opens with ${fresh}.`,
      ]);
      for (let i = 0; i < 30; i++) messages.push(msg(messages.length, { role: i % 2 === 0 ? "user" : "assistant", content: r.pick(FILLER) }));
      messages.push(msg(messages.length, { role: "user", content: update }));
      const text = roll(messages);
      const shown = current(text);
      assert.ok(
        shown.some((l) => l.includes(fresh)),
        text,
      );
      assert.ok(!shown.some((l) => l.includes(first.get(target) ?? "?")), `old value shown as current\n${text}`);
      assert.ok(text.includes(`(was ${first.get(target)})`), text);
      for (const s of sites)
        if (s !== target)
          assert.ok(
            shown.some((l) => l.includes(first.get(s) ?? "?")),
            `${s} lost\n${text}`,
          );
    });
  }

  it("a second value of the same shape without an update cue is another thing, not a replacement", () => {
    const messages = [msg(0, { role: "user", content: "My parcel from the bookshop is tracked as 1Z4F8A0390012345." }), msg(1, { role: "user", content: "My parcel from the bookshop is tracked as 1Z4F8A0390067890." })];
    const text = extractiveSummary({ previous: null, messages, maxTokens: 400 });
    assert.ok(text.includes("1Z4F8A0390012345") && text.includes("1Z4F8A0390067890"), text);
    assert.doesNotMatch(text, /\(was /);
  });

  it("an update cue about a different named thing replaces nothing", () => {
    const messages = [msg(0, { role: "user", content: "The gate code for the Aarhus warehouse is GATE-1234A." }), msg(1, { role: "user", content: "The gate code for the Namur warehouse is now GATE-9876B." })];
    const text = extractiveSummary({ previous: null, messages, maxTokens: 400 });
    assert.ok(
      current(text).some((l) => l.includes("GATE-1234A")),
      text,
    );
    assert.doesNotMatch(text, /\(was /);
  });

  it("counts small talk instead of quoting it, so the summary grows with facts, not turns", () => {
    const sizeAfter = (turns: number): number => {
      const r = prng(5);
      const messages: Message[] = [];
      for (let i = 0; i < turns; i++) {
        const content = i === 4 ? "The pickup number for the sofa is PU-88213." : r.pick(FILLER);
        messages.push(msg(i, { role: i % 2 === 0 ? "user" : "assistant", content }));
      }
      const text = roll(messages);
      assert.ok(text.includes("PU-88213"), text);
      assert.match(text, /^- \d+ short acknowledgements$/m);
      // Only the topic line may quote a chat message.
      assert.deepEqual(
        text.split("\n").filter((l) => /walk today|nephew/.test(l) && !l.includes("Topic:")),
        [],
      );
      return estimateTokens(text);
    };
    const short = sizeAfter(100);
    const long = sizeAfter(1500);
    assert.ok(long - short < 20, `100 turns: ${short} tokens, 1,500 turns: ${long}`);
  });

  it("an assistant reply that says back the user's message is not a note of its own", () => {
    const text = extractiveSummary({
      previous: null,
      messages: [msg(0, { role: "user", content: "The courier's pickup number for the wardrobe is PU-55120." }), msg(1, { role: "assistant", content: "Got it: PU-55120 for the wardrobe pickup." })],
      maxTokens: 400,
    });
    assert.equal(text.split("PU-55120").length - 1, 1, text);
    assert.match(text, /\[user alice\] The courier's pickup number for the wardrobe is PU-55120\./);
  });

  for (const [seed, phrasing] of [
    [31, 0],
    [32, 1],
    [33, 2],
  ] as const) {
    it(`an update that names the value it replaces ("…, not X", "instead of X") replaces that statement, whatever its wording (seed ${seed})`, () => {
      const r = prng(seed);
      const sites = SITES.slice(0, 6);
      const first = new Map(sites.map((s) => [s, code(r, "PL")]));
      // Statements worded unlike the update: only the named old value ties them together.
      const messages: Message[] = sites.map((s, i) => msg(i, { role: "user", content: `The padlock on the ${s} storage cage came back as ${first.get(s)}.` }));
      const target = r.pick(sites);
      const old = first.get(target) ?? "?";
      const fresh = code(r, "PL");
      const update = [`Two things: sorry, the lock is actually ${fresh}, not ${old}.`, `Use ${fresh} instead of ${old} from now on.`, `Heads up: the cage lock changed from ${old} to ${fresh}.`][phrasing] as string;
      messages.push(msg(messages.length, { role: "user", content: update }));
      const text = roll(messages);
      const shown = current(text);
      assert.ok(
        shown.some((l) => l.includes(fresh)),
        text,
      );
      assert.ok(!shown.some((l) => l.includes(old) && !l.includes(fresh)), `old value shown as current\n${text}`);
      for (const s of sites)
        if (s !== target)
          assert.ok(
            shown.some((l) => l.includes(first.get(s) ?? "?")),
            `${s} lost\n${text}`,
          );
    });
  }

  it("naming an old value without an update cue replaces nothing", () => {
    const messages = [msg(0, { role: "user", content: "The Brno cage padlock is PL-1111A." }), msg(1, { role: "user", content: "The Graz cage padlock is PL-2222B, not PL-1111A like Brno." })];
    const text = extractiveSummary({ previous: null, messages, maxTokens: 400 });
    assert.ok(
      current(text).some((l) => l.includes("PL-1111A") && !l.includes("PL-2222B")),
      text,
    );
    assert.doesNotMatch(text, /\(was /);
  });

  it("openers before an update are passed over one by one, so the subject after them still matches", () => {
    const messages = [
      msg(0, { role: "user", content: "The confirmation for the Graz locker came back as LK-1000A." }),
      msg(1, { role: "user", content: "The confirmation for the Split locker came back as LK-3000C." }),
      msg(2, { role: "user", content: "Two things: actually, the Graz locker is LK-2000B, OK?" }),
    ];
    const text = extractiveSummary({ previous: null, messages, maxTokens: 400 });
    assert.ok(text.includes("(was LK-1000A)"), text);
    assert.ok(
      current(text).some((l) => l.includes("LK-3000C")),
      text,
    );
  });

  it("a code replaced by one of another shape is still the same thing's code", () => {
    // "LK-4471" reads as a reference, "QX4410" as a flight number: both are codes.
    const messages = ["Namur", "Brno", "Graz", "Espoo"].map((site, i) => msg(i, { role: "user", content: `Stash the ${site} kit in bin LK-${4471 + i * 111}.` }));
    messages.push(msg(4, { role: "user", content: "Update: the Namur storage changed to QX4410." }));
    const text = extractiveSummary({ previous: null, messages, maxTokens: 400 });
    assert.ok(text.includes("(was LK-4471)"), text);
    for (const other of ["LK-4582", "LK-4693", "LK-4804"])
      assert.ok(
        current(text).some((l) => l.includes(other)),
        text,
      );
  });

  it("under pressure, replaced values go before any current identifier", () => {
    const r = prng(3);
    const messages: Message[] = [];
    const now: string[] = [];
    for (let i = 0; i < 12; i++) {
      const site = SITES[i] ?? "X";
      const a = code(r, "GATE");
      const b = code(r, "GATE");
      now.push(b);
      messages.push(msg(messages.length, { role: "user", content: `The gate code for the ${site} warehouse is ${a}.` }));
      messages.push(msg(messages.length, { role: "user", content: `Correction: the gate code for the ${site} warehouse is now ${b}.` }));
    }
    const roomy = extractiveSummary({ previous: null, messages, maxTokens: 2000 });
    assert.equal(roomy.match(/\(was /g)?.length, 12, roomy);
    const tight = extractiveSummary({ previous: null, messages, maxTokens: estimateTokens(roomy) - 40 });
    for (const c of now) assert.ok(tight.includes(c), `${c} lost\n${tight}`);
    assert.ok((tight.match(/\(was /g)?.length ?? 0) < 12, tight);
  });

  it("the model sees one summary header", () => {
    const text = extractiveSummary({ previous: null, messages: [msg(0, { role: "user", content: "The pickup number is PU-1200." })], maxTokens: 200 });
    const note = summaryNote(text);
    assert.match(note, /^Summary of 1 earlier message /);
    assert.doesNotMatch(note, /Summary of earlier conversation/);
    assert.equal(summaryNote("Written by a model."), "Summary of earlier conversation:\nWritten by a model.");
  });
});
