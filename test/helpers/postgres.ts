import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { chown, mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after } from "node:test";
import pg from "pg";
import type { SessionStore } from "../../src/store/store.js";

/** Where a test server came from. */
export type PostgresSource = "env" | "local" | "initdb";

/** A server the tests may create databases on. */
export interface PostgresServer {
  /** URL of a database that always exists on it (used to create and drop the test databases). */
  adminUrl: string;
  source: PostgresSource;
  /** Stops and removes a throwaway cluster; nothing for a server we did not start. */
  stop(): Promise<void>;
}

/** A fresh database for one test file, dropped when the file's tests end. */
export interface PostgresTestDatabase {
  /** URL of the database. */
  url: string;
  source: PostgresSource;
  /** A URL on a schema no store has used yet: every call gives an empty store (cheaper than a database). */
  freshSchemaUrl(): string;
  /** Runs one statement as the server's admin user on this database (fault tests: pg_terminate_backend). */
  admin<R extends object = Record<string, unknown>>(text: string, values?: unknown[]): Promise<R[]>;
  /** Drops the database now (also done after the file's tests). */
  drop(): Promise<void>;
}

/** Where to look for a server, in order; the defaults follow OPENCLAW_TEST_POSTGRES_URL and the local server. */
export interface AcquireOptions {
  /** An explicit server URL: used alone, a failure to reach it is an error. */
  envUrl?: string | undefined;
  /** The local server to try next. */
  localUrl?: string;
  /** Whether a throwaway cluster may be started from the installed binaries. */
  allowInitdb?: boolean;
}

const LOCAL_URL = "postgres://postgres@127.0.0.1:5432/postgres";

async function answers(url: string): Promise<string | null> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  client.on("error", () => {});
  try {
    await client.connect();
    await client.query("SELECT 1");
    return null;
  } catch (err) {
    return err instanceof Error ? (((err as { code?: string }).code ?? "") + " " + err.message).trim() : String(err);
  } finally {
    await client.end().catch(() => undefined);
  }
}

function binDir(): string | undefined {
  const onPath = spawnSync("sh", ["-c", "command -v initdb"], { encoding: "utf8" }).stdout.trim();
  if (onPath !== "") return join(onPath, "..");
  for (const v of ["17", "16", "15", "14", "13"]) {
    const dir = `/usr/lib/postgresql/${v}/bin`;
    if (existsSync(join(dir, "initdb"))) return dir;
  }
  return undefined;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === "object" && addr !== null ? resolve(addr.port) : reject(new Error("no port"))));
    });
  });
}

/** Runs a PostgreSQL binary, as the `postgres` OS user when we are root (the server refuses to run as root). */
function runPg(bin: string, args: string[]): Promise<{ code: number; out: string }> {
  const asRoot = process.getuid?.() === 0;
  const [cmd, argv] = asRoot ? ["runuser", ["-u", "postgres", "--", bin, ...args]] : [bin, args];
  return new Promise((resolve) => {
    const child = spawn(cmd, argv, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    child.on("error", (err) => resolve({ code: -1, out: err.message }));
    child.on("close", (code) => resolve({ code: code ?? -1, out }));
  });
}

/** A throwaway cluster, which a fault test may stop and start again on the same port and data. */
export interface ThrowawayCluster extends PostgresServer {
  /** Stops the server (`pg_ctl stop -m fast|immediate`), keeping its data; connections drop, new ones are refused. */
  halt(mode: "fast" | "immediate"): Promise<void>;
  /** Starts the halted server again and waits until it accepts connections. */
  resume(): Promise<void>;
}

/** Starts a private cluster in a temp directory on a free port (trust auth, fsync off); stopped and removed by `stop`. */
export async function startThrowawayCluster(): Promise<ThrowawayCluster> {
  const bin = binDir();
  if (bin === undefined) throw new Error("no PostgreSQL binaries (initdb) installed");
  const dir = await mkdtemp(join(tmpdir(), "openclaw-pg-"));
  const data = join(dir, "data");
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const uid = Number(spawnSync("id", ["-u", "postgres"], { encoding: "utf8" }).stdout.trim());
    const gid = Number(spawnSync("id", ["-g", "postgres"], { encoding: "utf8" }).stdout.trim());
    if (!Number.isInteger(uid) || uid <= 0) throw new Error("running as root and there is no postgres OS user to run the server as");
    await chown(dir, uid, gid);
  }
  const remove = () => rm(dir, { recursive: true, force: true });
  const init = await runPg(join(bin, "initdb"), ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"]);
  if (init.code !== 0) {
    await remove();
    throw new Error(`initdb failed: ${init.out.trim().split("\n").slice(-3).join(" ")}`);
  }
  const port = await freePort();
  const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off`;
  const start = await runPg(join(bin, "pg_ctl"), ["-D", data, "-o", opts, "-l", join(dir, "server.log"), "-w", "-t", "60", "start"]);
  if (start.code !== 0) {
    await remove();
    throw new Error(`pg_ctl start failed: ${start.out.trim().split("\n").slice(-3).join(" ")}`);
  }
  let stopped = false;
  const pgCtl = async (args: string[]) => {
    if (stopped) throw new Error("the throwaway cluster was removed");
    const r = await runPg(join(bin, "pg_ctl"), ["-D", data, ...args]);
    if (r.code !== 0) throw new Error(`pg_ctl ${args.at(-1) ?? ""} failed: ${r.out.trim().split("\n").slice(-3).join(" ")}`);
  };
  const stopSync = () => {
    if (stopped) return;
    stopped = true;
    const argv = ["-D", data, "-m", "immediate", "stop"];
    spawnSync(asRoot ? "runuser" : join(bin, "pg_ctl"), asRoot ? ["-u", "postgres", "--", join(bin, "pg_ctl"), ...argv] : argv, { stdio: "ignore" });
    spawnSync("rm", ["-rf", dir]);
  };
  // A test process that ends without calling stop() still leaves nothing running.
  process.once("exit", stopSync);
  return {
    adminUrl: `postgres://postgres@127.0.0.1:${port}/postgres`,
    source: "initdb",
    halt: (mode) => pgCtl(["-m", mode, "-w", "-t", "60", "stop"]),
    resume: () => pgCtl(["-o", opts, "-l", join(dir, "server.log"), "-w", "-t", "60", "start"]),
    stop: async () => {
      process.removeListener("exit", stopSync);
      stopSync();
    },
  };
}

/**
 * Finds a server: `envUrl` (OPENCLAW_TEST_POSTGRES_URL) alone when given;
 * otherwise the local server; otherwise a throwaway cluster. Throws with
 * every reason when none can be had.
 */
export async function acquirePostgres(options: AcquireOptions = { envUrl: process.env.OPENCLAW_TEST_POSTGRES_URL }): Promise<PostgresServer> {
  const none = async () => {};
  if (options.envUrl !== undefined && options.envUrl !== "") {
    const why = await answers(options.envUrl);
    if (why !== null) throw new Error(`OPENCLAW_TEST_POSTGRES_URL does not answer (${why})`);
    return { adminUrl: options.envUrl, source: "env", stop: none };
  }
  const local = options.localUrl ?? LOCAL_URL;
  const localWhy = await answers(local);
  if (localWhy === null) return { adminUrl: local, source: "local", stop: none };
  if (options.allowInitdb === false) throw new Error(`no server on ${new URL(local).host} (${localWhy})`);
  try {
    return await startThrowawayCluster();
  } catch (err) {
    throw new Error(`no server on ${new URL(local).host} (${localWhy}) and no throwaway cluster (${err instanceof Error ? err.message : String(err)})`, { cause: err });
  }
}

let shared: Promise<PostgresServer> | undefined;

/** Runs one statement on `url` with a short-lived connection. */
async function once<R extends object>(url: string, text: string, values: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  client.on("error", () => {});
  await client.connect();
  try {
    return (await client.query<R>(text, values)).rows;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** `url` pointing at database `name` instead. */
function onDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/**
 * Gives the calling test file a fresh PostgreSQL database (a unique name,
 * dropped after the file's tests, even when they fail) on the first server
 * found: OPENCLAW_TEST_POSTGRES_URL when set, else 127.0.0.1:5432 as user
 * postgres, else a throwaway cluster started from the installed binaries.
 * When there is none it returns `{ skip: reason }` for the caller to skip
 * with, except under CI=true, where it throws: no server is a failure there.
 *
 * Usage, at the top of a test file:
 *   const db = await withPostgresDatabase();
 *   if ("skip" in db) describe("…", { skip: db.skip }, () => {}); else storeConformance("postgres", postgresOpener(db));
 */
export async function withPostgresDatabase(): Promise<PostgresTestDatabase | { skip: string }> {
  let server: PostgresServer;
  try {
    shared ??= acquirePostgres();
    server = await shared;
  } catch (err) {
    const reason = `no PostgreSQL server for the tests: ${err instanceof Error ? err.message : String(err)}; set OPENCLAW_TEST_POSTGRES_URL or install PostgreSQL`;
    if (process.env.CI === "true") throw new Error(reason, { cause: err });
    return { skip: reason };
  }
  const name = `openclaw_test_${process.pid}_${randomBytes(4).toString("hex")}`;
  await once(server.adminUrl, `CREATE DATABASE ${name}`);
  const url = onDatabase(server.adminUrl, name);
  let dropped = false;
  const dropSync = () => {
    if (!dropped) spawnSync("psql", [server.adminUrl, "-q", "-c", `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`], { stdio: "ignore" });
  };
  process.once("exit", dropSync);
  let schemas = 0;
  const db: PostgresTestDatabase = {
    url,
    source: server.source,
    freshSchemaUrl: () => {
      const u = new URL(url);
      u.searchParams.set("schema", `t${++schemas}_${randomBytes(3).toString("hex")}`);
      return u.toString();
    },
    admin: (text, values) => once(url, text, values),
    drop: async () => {
      if (dropped) return;
      dropped = true;
      process.removeListener("exit", dropSync);
      await once(server.adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
  after(() => db.drop());
  return db;
}

/**
 * The opener the shared conformance suites take: each call gives an empty
 * store on a new schema of `db`, `reopen` a second instance on the same
 * schema (as another process would), `cleanup` drops the schema.
 */
export function postgresOpener(db: PostgresTestDatabase, open: (url: string) => Promise<SessionStore>): () => Promise<{ store: SessionStore; cleanup: () => Promise<void>; reopen: () => Promise<SessionStore> }> {
  return async () => {
    const url = db.freshSchemaUrl();
    const schema = new URL(url).searchParams.get("schema") as string;
    // Every instance is closed at cleanup: the suites drop a store without closing it, and open pools would pile up connections.
    const opened: SessionStore[] = [];
    const track = async () => {
      const s = await open(url);
      opened.push(s);
      return s;
    };
    const store = await track();
    return {
      store,
      reopen: track,
      cleanup: async () => {
        for (const s of opened) await s.close();
        await db.admin(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      },
    };
  };
}
