// Runs the benchmarks of BENCHMARKS.md and writes bench/results/latest.json.
//   npm run bench                      default sizes (1k and 10k stores)
//   npm run bench -- --full            adds the 100k store
//   npm run bench -- --only=list,cli   a subset: cli, list, append, context, memory, compact, gateway, postgres, lease, summaries, search, encryption, toolresults
// Sizes and repetitions come from BENCH_* variables (see BENCHMARKS.md).
import { spawnSync } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { storeAppends } from "./append-store.js";
import { durableAppends } from "./appends.js";
import { encryptionCost } from "./encryption.js";
import { cliStart, type EmptyListTimes } from "./cli-start.js";
import { compactAtScale } from "./compact.js";
import { contextBuild } from "./context.js";
import { toolResultSavings } from "./tool-results.js";
import { gatewayThroughput } from "./gateway.js";
import { gatewayMemory } from "./gateway-memory.js";
import { listAtScale } from "./list.js";
import { holdSessions } from "./memory.js";
import { routeAtScale } from "./routing.js";
import { postgresScenario } from "./postgres.js";
import { searchAtScale } from "./search.js";
import { summaryQuality } from "./summaries.js";
import { turnLeaseCost } from "./turn-lease.js";
import { gatewayLeaseCost } from "./gateway-lease.js";
import { documentBytes, populate } from "./_populate.js";
import { RSS_METHOD } from "./_spawn.js";
import { envInt, envSizes, machine, renderTable, scratch, show, type Row } from "./_util.js";

const SCENARIOS = ["cli", "list", "append", "context", "memory", "compact", "gateway", "postgres", "lease", "summaries", "search", "encryption", "toolresults"] as const;
type Scenario = (typeof SCENARIOS)[number];

const args = process.argv.slice(2);
const full = args.includes("--full");
const keep = args.includes("--keep");
const onlyArg = args.find((a) => a.startsWith("--only="));
const unknown = args.filter((a) => a !== "--full" && a !== "--keep" && !a.startsWith("--only="));
if (unknown.length > 0) throw new Error(`unknown argument ${unknown.join(" ")}: use --full, --keep, --only=${SCENARIOS.join(",")}`);
const only = new Set(onlyArg === undefined ? SCENARIOS : onlyArg.slice("--only=".length).split(","));
for (const s of only) if (!(SCENARIOS as readonly string[]).includes(s)) throw new Error(`--only: unknown scenario "${s}"; known: ${SCENARIOS.join(", ")}`);
const wants = (s: Scenario) => only.has(s);

// Kept out of `params`, which is written to the results: the URL may carry a password.
const postgresUrl = process.env.BENCH_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const params = {
  full,
  sizes: envSizes("BENCH_SIZES", full ? [1_000, 10_000, 100_000] : [1_000, 10_000]),
  cliRuns: envInt("BENCH_RUNS", 15),
  listRuns: envInt("BENCH_LIST_RUNS", 10),
  listTimeoutSeconds: envInt("BENCH_LIST_TIMEOUT_S", 120),
  singleAppends: envInt("BENCH_APPENDS", 300),
  concurrentSessions: envInt("BENCH_CONCURRENT_SESSIONS", 100),
  appendsPerSession: envInt("BENCH_APPENDS_PER_SESSION", 10),
  contextIterations: envInt("BENCH_CONTEXT_ITERATIONS", 5_000),
  toolResultTurns: envInt("BENCH_TOOL_RESULT_TURNS", 40),
  memorySessions: envInt("BENCH_MEMORY_SESSIONS", 10_000),
  compactSessions: envInt("BENCH_COMPACT_SESSIONS", 10_000),
  populateParallel: envInt("BENCH_POPULATE_PARALLEL", 16),
  populateCommitted: envInt("BENCH_POPULATE_COMMITTED", 5_000),
  gatewaySessions: envInt("BENCH_GATEWAY_SESSIONS", 100),
  gatewayRequests: envInt("BENCH_GATEWAY_REQUESTS", 3000),
  gatewayMemorySessions: envInt("BENCH_GATEWAY_MEMORY_SESSIONS", full ? 100_000 : 5_000),
  postgresListSizes: envSizes("BENCH_POSTGRES_LIST_SIZES", [1_000, 100_000]),
  encryptionAppends: envInt("BENCH_ENCRYPTION_APPENDS", 300),
  encryptionRounds: envInt("BENCH_ENCRYPTION_ROUNDS", 5),
  leaseSessions: envInt("BENCH_LEASE_SESSIONS", 100),
  leaseInFlight: envInt("BENCH_LEASE_IN_FLIGHT", 8),
  leaseTurns: envInt("BENCH_LEASE_TURNS", 300),
  leaseRounds: envInt("BENCH_LEASE_ROUNDS", 7),
  leaseRequests: envInt("BENCH_LEASE_REQUESTS", 600),
};

/** The commit measured, marked dirty when the tree has uncommitted changes (read-only git queries). */
function revision(): string {
  const head = spawnSync("git", ["rev-parse", "--short", "HEAD"], { encoding: "utf8" });
  if (head.status !== 0) return "unknown";
  const dirty = spawnSync("git", ["status", "--porcelain", "--untracked-files=no"], { encoding: "utf8" }).stdout.trim() !== "";
  return `${head.stdout.trim()}${dirty ? "+uncommitted" : ""}`;
}

const log = (line: string) => process.stderr.write(`${line}\n`);
const rows: Row[] = [];
const report = (got: Row[]) => {
  for (const r of got) log(`  ${r.case}: ${show(r.figure, r.unit)} (baseline ${show(r.baseline, r.unit)}, ${r.ratio.toFixed(2)}×, goal ${r.goal})`);
  rows.push(...got);
};

const work = await scratch("stores");
const stores = new Map<number, { dir: string; ms: number; bytes: number }>();
/** A populated store of `size` sessions, built once and shared by the scenarios that only read it. */
async function store(size: number): Promise<{ dir: string; ms: number; bytes: number }> {
  const hit = stores.get(size);
  if (hit !== undefined) return hit;
  const dir = `${work.dir}/s${size}`;
  const bulk = Math.max(0, size - params.populateCommitted);
  log(`populating ${size} sessions: ${bulk} written directly with their index snapshot, the rest through FileStore.commit (${params.populateParallel} in parallel)…`);
  const { ms } = await populate(dir, size, { bulk, parallel: params.populateParallel, onProgress: (n) => n % 10_000 === 0 && log(`  ${n}`) });
  const made = { dir, ms, bytes: await documentBytes(dir) };
  log(`  ${size} sessions in ${(ms / 1000).toFixed(1)} s (${Math.round(size / (ms / 1000))} sessions/s, ${(made.bytes / 2 ** 20).toFixed(1)} MiB of documents)`);
  stores.set(size, made);
  return made;
}

const started = new Date();
try {
  let empty: EmptyListTimes | undefined;
  const emptyTimes = async () => (empty ??= (await cliStart(3)).empty);
  if (wants("cli")) {
    log("1. CLI start");
    const r = await cliStart(params.cliRuns);
    empty = r.empty;
    report(r.rows);
  }
  if (wants("list")) {
    log("2. list at scale");
    const base = await emptyTimes();
    for (const size of params.sizes) {
      const s = await store(size);
      report(await listAtScale(s.dir, size, params.listRuns, base, s, params.listTimeoutSeconds * 1000));
    }
    report(await routeAtScale(await Promise.all(params.sizes.map(async (size) => ({ size, dir: (await store(size)).dir })))));
  }
  if (wants("append")) {
    log("3. durable appends");
    report(await durableAppends({ single: params.singleAppends, sessions: params.concurrentSessions, perSession: params.appendsPerSession }));
    report(await storeAppends({ single: params.singleAppends, sessions: params.concurrentSessions, perSession: params.appendsPerSession }));
  }
  if (wants("encryption")) {
    log("11. encryption at rest");
    report(await encryptionCost({ appends: params.encryptionAppends, rounds: params.encryptionRounds }));
  }
  if (wants("context")) {
    log("4. context build");
    report(await contextBuild(params.contextIterations));
  }
  if (wants("toolresults")) {
    log("12. tool results in the context");
    report(await toolResultSavings(params.toolResultTurns));
  }
  if (wants("memory")) {
    log("6. memory");
    const s = await store(params.memorySessions);
    report(await holdSessions(s.dir, params.memorySessions, s.bytes));
  }
  if (wants("gateway")) {
    log("7. gateway");
    report(await gatewayThroughput({ sessions: params.gatewaySessions, requests: params.gatewayRequests }));
    report(await gatewayMemory(params.gatewayMemorySessions));
    // BENCH_GATEWAY_POSTGRES=1: the same scenario on a PostgreSQL schema of BENCH_POSTGRES_URL (dropped afterwards).
    if (process.env.BENCH_GATEWAY_POSTGRES === "1") {
      const schema = `bench_gateway_${process.pid}`;
      const url = new URL(postgresUrl);
      url.searchParams.set("schema", schema);
      try {
        report(await gatewayThroughput({ sessions: params.gatewaySessions, requests: params.gatewayRequests }, { uri: url.toString(), name: "postgres" }));
      } finally {
        const pg = (await import("pg")).default;
        const client = new pg.Client({ connectionString: postgresUrl });
        await client.connect();
        await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).finally(() => client.end());
      }
    }
  }
  if (wants("lease")) {
    log("9. turn lease (file store; PostgreSQL on a scratch schema of BENCH_POSTGRES_URL, dropped after)");
    const sizes = { sessions: params.leaseSessions, inFlight: params.leaseInFlight, turns: params.leaseTurns, rounds: params.leaseRounds };
    const gwSizes = { sessions: params.leaseSessions, inFlight: params.leaseInFlight, requests: params.leaseRequests, rounds: params.leaseRounds };
    report(await turnLeaseCost(sizes, { name: "file" }));
    report(await gatewayLeaseCost(gwSizes, { name: "file", uri: () => undefined }));
    const schemas: string[] = [];
    const schemaUri = (name: string) => {
      const schema = `bench_lease_${name}_${process.pid}`;
      schemas.push(schema);
      const url = new URL(postgresUrl);
      url.searchParams.set("schema", schema);
      return url.toString();
    };
    try {
      const { openPostgresStore } = await import("../src/store/postgres/postgres-store.js");
      report(await turnLeaseCost(sizes, { name: "postgres", store: () => openPostgresStore(schemaUri("manager"), { warn: () => {} }) }));
      report(await gatewayLeaseCost(gwSizes, { name: "postgres", uri: (variant) => schemaUri(`gw_${variant}`) }));
    } finally {
      const pg = (await import("pg")).default;
      const client = new pg.Client({ connectionString: postgresUrl });
      await client.connect();
      for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
      await client.end();
    }
  }
  if (wants("postgres")) {
    log("8. postgres (a scratch database on BENCH_POSTGRES_URL's server, dropped after)");
    report(
      await postgresScenario(postgresUrl, { single: params.singleAppends, sessions: params.concurrentSessions, perSession: params.appendsPerSession, listSizes: params.postgresListSizes, listRuns: params.listRuns }, log),
    );
  }
  if (wants("search")) {
    log("10. search");
    const size = envInt("BENCH_SEARCH_SIZE", 10_000);
    const s = await store(size);
    report(await searchAtScale(s.dir, size, params.listRuns));
  }
  // Last of the scenarios that share a store: compact changes it (every session may fold).
  if (wants("compact")) {
    log("5. sessions compact");
    const s = await store(params.compactSessions);
    report(await compactAtScale(s.dir, params.compactSessions));
  }
  if (wants("summaries")) {
    log("9. summaries");
    report(await summaryQuality(undefined, log));
  }
} finally {
  if (!keep) await work.cleanup();
  else log(`stores kept under ${work.dir}`);
}

rows.sort((a, b) => a.scenario.localeCompare(b.scenario, "en", { numeric: true }));
const finished = new Date();
const result = {
  startedAt: started.toISOString(),
  finishedAt: finished.toISOString(),
  durationSeconds: Math.round((finished.getTime() - started.getTime()) / 1000),
  command: `node --import tsx bench/run.ts ${args.join(" ")}`.trim(),
  revision: revision(),
  params,
  rssMethod: RSS_METHOD,
  machine: await machine(work.dir),
  rows,
};
const outDir = fileURLToPath(new URL("./results/", import.meta.url));
await mkdir(outDir, { recursive: true });
const json = `${JSON.stringify(result, null, 2)}\n`;
await writeFile(`${outDir}latest.json`, json);
if (full) await writeFile(`${outDir}latest-full.json`, json);
process.stdout.write(`\n${renderTable(rows)}\n\n`);
process.stdout.write(`${result.durationSeconds} s on ${result.machine.cpus} × ${result.machine.cpuModel}, ${result.machine.node}, ${result.machine.filesystem}; results in bench/results/latest.json\n`);
