// Folds generated conversations through the real manager (default config,
// memory store, inline compaction) and measures what the model still sees.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SessionManager } from "../src/manager/manager.js";
import { generateConversation, type PlantedFact } from "./corpus.js";
import { generateShapedConversation } from "./shapes.js";

/** One evaluated conversation size. */
export interface EvalCase {
  turns: number;
  facts: number;
  seed: number;
  /** Share of facts that must be in the model's context, 0–1; null when no goal is set. */
  goal: number | null;
  /** Model whose window sizes the budget; default: the default config's (gpt-4o, 128k). */
  model?: string;
  /** Which generator: "mixed" (facts of thirteen kinds, each about its own subject, the default) or "shapes" (many things of one kind in one sentence shape, see eval/shapes.ts). */
  corpus?: "mixed" | "shapes";
}

/** Figures for one case. */
export interface EvalResult {
  turns: number;
  facts: number;
  seed: number;
  model: string;
  corpus: "mixed" | "shapes";
  /** Share of planted facts whose current value is in what the model is sent (summary + kept turns). */
  presentShare: number;
  /** Share whose value appears in the summary on a line that also names what it is about. */
  answerableShare: number;
  /** Replaced values the summary still shows as current (outside "(was …)" and away from the new value), out of those whose replacement the summary holds. */
  staleShown: number;
  replaced: number;
  /** Facts whose current value the summary itself holds. */
  inSummary: number;
  /** Tokens sent (whole context) per fact present. */
  tokensPerFact: number;
  /** The summary's allowance: 40 tokens per fact it holds + 500. */
  summaryLimit: number;
  /** Facts (current and replaced values) missing from `export`. */
  missingFromExport: number;
  contextTokens: number;
  summaryTokens: number;
  window: number;
  folds: number;
  msPerFold: number;
  msPerAppend: number;
  goal: number | null;
  met: boolean | null;
  missing: PlantedFact[];
}

/** Seeds every goal is checked on. */
export const GOAL_SEEDS: readonly number[] = [1, 2, 3, 4, 5];

/**
 * Default cases: the mixed corpus from 100 to 2,000 turns, then the shaped one
 * (many things of one kind in one sentence shape); both at 1,000/50 and
 * 2,000/100 on five seeds each, with goals ≥ 98 % and ≥ 95 % of current values
 * present.
 */
export const DEFAULT_CASES: readonly EvalCase[] = [
  { turns: 100, facts: 10, seed: 101, goal: null },
  { turns: 300, facts: 25, seed: 303, goal: null },
  ...GOAL_SEEDS.map((seed) => ({ turns: 1000, facts: 50, seed: 1000 + seed - 1, goal: 0.98 })),
  ...GOAL_SEEDS.map((seed) => ({ turns: 2000, facts: 100, seed: 2000 + seed - 1, goal: 0.95 })),
  // Under pressure: an 8k window leaves the summary its 1,200-token floor for 100 facts.
  { turns: 2000, facts: 100, seed: 2000, goal: null, model: "gpt-4" },
  { turns: 300, facts: 15, seed: 300, goal: null, corpus: "shapes" },
  ...GOAL_SEEDS.map((seed) => ({ turns: 1000, facts: 50, seed, goal: 0.98, corpus: "shapes" as const })),
  ...GOAL_SEEDS.map((seed) => ({ turns: 2000, facts: 100, seed, goal: 0.95, corpus: "shapes" as const })),
];

const NAME_WORD = /[\p{L}][\p{L}.'-]{3,}/gu;

/** True when `text` holds `value` as a whole token: "4 May 2026" is not in "24 May 2026". */
export function holds(text: string, value: string): boolean {
  const re = new RegExp(`(?<![\\p{L}\\p{N}])${value.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(?![\\p{L}\\p{N}]|[.,]\\p{N})`, "u");
  return re.test(text);
}
const COMMON = new Set(["the", "for", "from", "with", "appointment", "meeting", "handover", "interview", "parcel", "flight", "booking", "train"]);

/** Runs one case end to end. */
export async function evaluate(c: EvalCase): Promise<EvalResult> {
  const kind = c.corpus ?? "mixed";
  const corpus = kind === "shapes" ? generateShapedConversation(c.turns, c.facts, c.seed) : generateConversation(c.turns, c.facts, c.seed);
  const dir = await mkdtemp(join(tmpdir(), "oc-eval-"));
  const clock = { t: Date.parse("2026-01-05T08:00:00.000Z") };
  const manager = await SessionManager.open({ stateDir: dir, storeUri: "memory:", config: c.model === undefined ? {} : { sessions: { model: c.model } }, warn: () => undefined, now: () => new Date(clock.t) });
  try {
    const created = await manager.create({ key: "dm:eval:user" });
    let folds = 0;
    let foldMs = 0;
    let appendMs = 0;
    let compactions = 0;
    for (const m of corpus.messages) {
      clock.t += 45_000;
      const start = performance.now();
      const s = (await manager.record({ ref: created.id }, { role: m.role, content: m.content, ...(m.role === "user" ? { sender: "user" } : {}) })).session;
      const ms = performance.now() - start;
      appendMs += ms;
      if (s.context.compactions > compactions) {
        folds += s.context.compactions - compactions;
        compactions = s.context.compactions;
        foldMs += ms;
      }
    }
    const session = await manager.get(created.id);
    const built = await manager.buildContext(created.id);
    const seen = built.messages.map((m) => m.content).join("\n");
    const summary = session.summary?.text ?? "";
    const lines = summary.split("\n");
    const exported = JSON.stringify(await manager.exportSessions([created.id]));
    const missing = corpus.facts.filter((f) => !holds(seen, f.value));
    const answerable = corpus.facts.filter((f) => {
      const words = (f.subject.match(NAME_WORD) ?? []).filter((w) => !COMMON.has(w.toLowerCase()));
      return lines.some((l) => holds(l, f.value) && words.some((w) => l.includes(w)));
    });
    // A replaced value counts as stale only once its replacement is folded too: until then the summary is right to hold it.
    const updated = corpus.facts.filter((f) => f.replaced.length > 0 && holds(summary, f.value));
    // A value that is also another fact's current value (two things on one date) is current, not stale.
    const current = new Set(corpus.facts.map((f) => f.value));
    const replaced = updated.flatMap((f) => f.replaced.filter((v) => !current.has(v)));
    // Shown as current: on a line of its own, not as "(was X)" nor beside the new value ("Y instead of X").
    const asCurrent = lines.map((l) => l.replace(/ \(was .+\)$/, ""));
    const staleShown = updated.flatMap((f) => f.replaced.filter((v) => !current.has(v) && asCurrent.some((l) => holds(l, v) && !holds(l, f.value)))).length;
    const inSummary = corpus.facts.filter((f) => holds(summary, f.value)).length;
    const missingFromExport = corpus.facts.flatMap((f) => [f.value, ...f.replaced]).filter((v) => !holds(exported, JSON.stringify(v).slice(1, -1))).length;
    const window = (await manager.window()).window;
    const presentShare = (corpus.facts.length - missing.length) / corpus.facts.length;
    return {
      turns: c.turns,
      facts: c.facts,
      seed: c.seed,
      model: manager.config.sessions.model,
      corpus: kind,
      presentShare,
      answerableShare: answerable.length / corpus.facts.length,
      staleShown,
      replaced: replaced.length,
      inSummary,
      tokensPerFact: built.tokens / Math.max(1, corpus.facts.length - missing.length),
      summaryLimit: 40 * inSummary + 500,
      missingFromExport,
      contextTokens: built.tokens,
      summaryTokens: built.parts.summary,
      window,
      folds,
      msPerFold: folds > 0 ? foldMs / folds : 0,
      msPerAppend: appendMs / corpus.messages.length,
      goal: c.goal,
      met: c.goal === null ? null : presentShare >= c.goal && missingFromExport === 0 && staleShown === 0 && built.parts.summary <= 40 * inSummary + 500,
      missing,
    };
  } finally {
    await manager.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Percent with one decimal. */
export function pct(x: number): string {
  return `${(x * 100).toFixed(1)}%`;
}

/** One line per result, for the terminal. */
export function describeResult(r: EvalResult): string {
  return (
    `${r.corpus} ${r.turns} turns, ${r.facts} facts (seed ${r.seed}, ${r.model}): present ${pct(r.presentShare)}, answerable from the summary ${pct(r.answerableShare)}, ` +
    `replaced values still shown as current ${r.staleShown}/${r.replaced}, missing from export ${r.missingFromExport}; context ${r.contextTokens} tokens ` +
    `(summary ${r.summaryTokens}, limit ${r.summaryLimit} for ${r.inSummary} facts in it; ${r.tokensPerFact.toFixed(0)} sent per fact present) of ${r.window}; ${r.folds} folds, ${r.msPerFold.toFixed(1)} ms per fold (append included), ` +
    `${r.msPerAppend.toFixed(2)} ms per append` +
    (r.goal === null ? "" : `; goal ≥ ${pct(r.goal)}: ${r.met ? "met" : "NOT met"}`)
  );
}
