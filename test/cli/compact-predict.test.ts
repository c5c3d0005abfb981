import assert from "node:assert/strict";
import { test } from "node:test";
import { sandbox } from "../helpers/cli-run.js";
import { seed } from "../helpers/cli-fixtures.js";

interface CompactJson {
  dryRun: boolean;
  bytesBefore: number | null;
  bytesAfter: number | null;
  actions: Array<{ folded: number }>;
}

test("compact --dry-run predicts the size the real run reaches", async (t) => {
  const sb = await sandbox(t);
  await seed(sb, [
    { key: "dm:telegram:1", messages: 160 },
    { key: "dm:telegram:2", messages: 240, summary: "earlier: order #1001 ships Friday" },
    { key: "group:slack:C1", messages: 20 },
  ]);
  const dry = await sb.json<CompactJson>(["sessions", "compact", "--dry-run"]);
  if (dry.bytesBefore === null) return t.skip("this store cannot tell its size");
  const folded = dry.actions.reduce((n, a) => n + a.folded, 0);
  assert.ok(folded > 100, `folds planned: ${folded}`);
  const human = await sb.ok(["sessions", "compact", "--dry-run"]);
  assert.match(human.stdout, / → .* \(predicted\)/);
  const real = await sb.json<CompactJson>(["sessions", "compact"]);
  assert.equal(
    real.actions.reduce((n, a) => n + a.folded, 0),
    folded,
    "the real run folds what the dry run said",
  );
  const predicted = dry.bytesAfter as number;
  const reached = real.bytesAfter as number;
  const error = Math.abs(predicted - reached) / reached;
  t.diagnostic(`predicted ${predicted}, reached ${reached}, ${(error * 100).toFixed(2)}% off`);
  assert.ok(error < 0.03, `predicted ${predicted} bytes, reached ${reached} (${(error * 100).toFixed(1)}% off)`);
  assert.notEqual(predicted, dry.bytesBefore, "a fold changes the size; the prediction says by how much");
});
