#!/usr/bin/env node
// Node 20's test runner does not expand globs, so collect the test files here.
// Usage: node scripts/run-tests.mjs [dir-or-file ...]
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";

function collect(path, out) {
  const st = statSync(path);
  if (st.isFile()) {
    out.push(path);
    return;
  }
  for (const entry of readdirSync(path).sort()) {
    const full = join(path, entry);
    const s = statSync(full);
    if (s.isDirectory()) collect(full, out);
    else if (entry.endsWith(".test.ts")) out.push(full);
  }
}

const roots = process.argv.slice(2);
const files = [];
for (const root of roots.length > 0 ? roots : ["test"]) collect(root, files);
if (files.length === 0) {
  console.error("error: no test files found");
  process.exit(1);
}
const result = spawnSync(
  process.execPath,
  ["--import", "tsx", "--test", "--test-concurrency=2", ...files],
  { stdio: "inherit" },
);
process.exit(result.status ?? 1);
