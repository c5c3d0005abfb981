// npm run eval [-- --seed=N] [-- --verbose]: the summary quality evaluation (see BENCHMARKS.md, "Summaries").
import { DEFAULT_CASES, describeResult, evaluate } from "./measure.js";

const args = process.argv.slice(2);
const seedArg = args.find((a) => a.startsWith("--seed="));
const shift = seedArg === undefined ? 0 : Number(seedArg.slice("--seed=".length));
const verbose = args.includes("--verbose");
let failed = false;
for (const c of DEFAULT_CASES) {
  const r = await evaluate({ ...c, seed: c.seed + shift });
  process.stdout.write(`${describeResult(r)}\n`);
  if (verbose) for (const f of r.missing) process.stdout.write(`  missing ${f.kind} ${JSON.stringify(f.value)} (${f.subject}, turn ${f.turn})\n`);
  if (r.met === false) failed = true;
}
process.exitCode = failed ? 1 : 0;
