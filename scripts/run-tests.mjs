#!/usr/bin/env node
// Node 20's test runner does not expand globs, so collect the test files here.
// Usage: node scripts/run-tests.mjs [--store=postgres] [dir-or-file ...]
// --store=postgres runs the given suites against a PostgreSQL store (OPENCLAW_TEST_STORE).
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

const args = process.argv.slice(2);
const store = args.find((a) => a.startsWith("--store="))?.slice("--store=".length);
if (store !== undefined && store !== "postgres" && store !== "file") {
  console.error(`error: --store takes postgres or file, not ${JSON.stringify(store)}`);
  process.exit(2);
}
const roots = args.filter((a) => !a.startsWith("--store="));
const files = [];
for (const root of roots.length > 0 ? roots : ["test"]) collect(root, files);
if (files.length === 0) {
  console.error("error: no test files found");
  process.exit(1);
}
const result = spawnSync(process.execPath, ["--import", "tsx", "--test", "--test-concurrency=2", ...files], { stdio: "inherit", env: store === undefined ? process.env : { ...process.env, OPENCLAW_TEST_STORE: store } });
process.exit(result.status ?? 1);
