import { DEFAULT_CASES, describeResult, evaluate, type EvalCase } from "../eval/measure.js";
import type { Row } from "./_util.js";

/**
 * Scenario "summaries": generated conversations of 100 to 2,000 turns with
 * planted facts, folded through the manager with the default configuration;
 * the share of facts the model still sees (summary + kept turns) against the
 * goal, with the summary-only share, tokens and time per fold as extras.
 */
export async function summaryQuality(cases: readonly EvalCase[] = DEFAULT_CASES, log: (line: string) => void = () => undefined): Promise<Row[]> {
  const rows: Row[] = [];
  for (const c of cases) {
    const r = await evaluate(c);
    log(`  ${describeResult(r)}`);
    rows.push({
      scenario: "8 summaries",
      case: `${r.corpus} corpus, ${r.turns} turns, ${r.facts} facts, seed ${r.seed}, ${r.model} (${r.window.toLocaleString("en")}-token window): facts in the model's context`,
      figure: r.presentShare * 100,
      unit: "%",
      // Baseline: what the summary alone carries, so the ratio shows what the kept turns add.
      baseline: r.answerableShare * 100,
      baselineLabel: "answerable from the summary alone",
      ratio: r.answerableShare > 0 ? r.presentShare / r.answerableShare : 0,
      goal: r.goal === null ? "report" : `≥ ${Math.round(r.goal * 100)}%, every fact in export, no replaced value as current, summary ≤ 40 tokens per fact it holds + 500`,
      met: r.met,
      extra: {
        seed: r.seed,
        contextTokens: r.contextTokens,
        summaryTokens: r.summaryTokens,
        folds: r.folds,
        msPerFold: Number(r.msPerFold.toFixed(1)),
        msPerAppend: Number(r.msPerAppend.toFixed(2)),
        staleShown: r.staleShown,
        inSummary: r.inSummary,
        summaryLimit: r.summaryLimit,
        tokensPerFact: Number(r.tokensPerFact.toFixed(1)),
        replaced: r.replaced,
        missingFromExport: r.missingFromExport,
      },
    });
  }
  return rows;
}
