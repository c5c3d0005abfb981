import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, describe, it } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import pg from "pg";
import { startThrowawayCluster, type ThrowawayCluster } from "../test/helpers/postgres.js";
import { envInt, tempDir } from "./_helpers.js";
import { ackTotal, readPgStore, startPgWriter, verifyStored, type PgWriter } from "./_pg-helpers.js";

/** Half the contention time (15 s by default): long enough for two outages and the recovery after each. */
const SECONDS = Math.max(12, Math.ceil(envInt("RELIABILITY_CONTENTION_SECONDS", 30) / 2));
/** How long each outage lasts. */
const OUTAGE_MS = 2000;
/** After the server is back, how long a writer may still fail (a dead pooled connection found on first use). */
const GRACE_MS = 5000;
const USERS = ["ann", "bob", "cyd"];

// This test stops the server, so it never uses a shared one: it needs a
// throwaway cluster started from the installed binaries (initdb, pg_ctl).
// Without them it is skipped locally and fails under CI=true.
let cluster: ThrowawayCluster | undefined;
let skip: string | false = false;
try {
  cluster = await startThrowawayCluster();
  after(() => cluster?.stop());
} catch (err) {
  const reason = `no throwaway PostgreSQL cluster to stop and restart: ${err instanceof Error ? err.message : String(err)}; install PostgreSQL's server binaries`;
  if (process.env.CI === "true") throw new Error(reason, { cause: err });
  skip = reason;
}

/** Runs statements as the cluster's superuser. */
async function admin(adminUrl: string, statements: readonly string[]): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    for (const text of statements) await client.query(text);
  } finally {
    await client.end();
  }
}

/** The setting as a session of `url` sees it. */
async function setting(url: string, name: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<{ v: string }>(`SELECT current_setting($1) AS v`, [name])).rows[0]?.v ?? "";
  } finally {
    await client.end();
  }
}

describe("postgres restart: the server stopped and started under manager processes writing the same sessions", { skip }, () => {
  it(`over ${SECONDS} s and two outages, errors are one clear line without credentials, writing resumes, nothing acknowledged is lost or doubled`, async (t) => {
    if (cluster === undefined) return;
    // A user name and a password of our own, to prove neither reaches an error (the cluster trusts local connections, so any password is accepted).
    const suffix = randomBytes(4).toString("hex");
    const user = `relwriter_${suffix}`;
    const password = `pw-${randomBytes(8).toString("hex")}`;
    const database = `openclaw_rel_${suffix}`;
    // The cluster runs with synchronous_commit off, which an immediate (crash) stop may lose commits under: the writers' role turns it on.
    await admin(cluster.adminUrl, [`CREATE ROLE ${user} LOGIN PASSWORD '${password}'`, `ALTER ROLE ${user} SET synchronous_commit = on`, `CREATE DATABASE ${database} OWNER ${user}`]);
    const server = new URL(cluster.adminUrl);
    const url = `postgres://${user}:${password}@${server.host}/${database}?schema=rel`;
    assert.equal(await setting(url, "synchronous_commit"), "on");
    const { dir, cleanup } = await tempDir("pg-restart");
    const writers: PgWriter[] = [];
    const started = Date.now();
    const outages: { mode: "fast" | "immediate"; from: number; to: number }[] = [];
    try {
      const a = startPgWriter(url, dir, "a", SECONDS, USERS);
      const b = startPgWriter(url, dir, "b", SECONDS, USERS);
      writers.push(a, b);
      let late: PgWriter | undefined;
      // A fast stop (the server ends every connection, then shuts down cleanly), then an immediate one (a crash: recovery at start).
      for (const mode of ["fast", "immediate"] as const) {
        // Each outage hits both writers mid-stream: they have started, or recovered from the last outage, and write again.
        const [na, nb] = [a.count(), b.count()];
        await Promise.race([Promise.all([a.acks(na + 10), b.acks(nb + 10)]), delay(15_000)]);
        assert.ok(a.count() >= na + 10 && b.count() >= nb + 10, `the writers did not get going ${outages.length === 0 ? "" : "again after the outage "}(a ${a.count()}, b ${b.count()} acks)`);
        await delay(500);
        const before = a.count() + b.count();
        const from = Date.now();
        await cluster.halt(mode);
        if (mode === "immediate") {
          // A third process starting while the server is down: opening the store fails clearly until it is back, then it writes too.
          late = startPgWriter(url, dir, "c", Math.max(4, Math.ceil((started + SECONDS * 1000 - Date.now()) / 1000)), USERS);
          writers.push(late);
        }
        await delay(OUTAGE_MS);
        // The outage lasts until the late process has tried to open the store, however slowly it started.
        for (const until = Date.now() + 20_000; late !== undefined && late.errors.length === 0 && Date.now() < until;) await delay(100);
        await cluster.resume();
        outages.push({ mode, from, to: Date.now() });
        t.diagnostic(`outage ${mode}: ${((Date.now() - from) / 1000).toFixed(1)} s, ${before} appends acknowledged before it`);
      }
      const c = late ?? assert.fail("no late writer");
      for (const w of [a, b, c]) {
        const exit = await w.exited;
        assert.equal(exit.code, 0, `a writer failed: ${w.stderr.join("")}`);
        // A fold that runs after an append (waited for, or in the background) may fail during an outage (the
        // append stands), and change notifications batched after a commit may not go out: each says so, in one line.
        const allowed = [
          /^warning: session [0-9a-f-]{36}: compaction failed: cannot [a-z ]+: the postgres server at \S+ is unavailable \([^()]+\); retry once it is back; the message is stored$/,
          /^warning: session [0-9a-f-]{36}: background compaction failed: cannot [a-z ]+: the postgres server at \S+ is unavailable \([^()]+\); retry once it is back; nothing was lost$/,
          /^warning: postgres change notifications not sent \(cannot notify: the postgres server at \S+ is unavailable \([^()]+\); retry once it is back\); other instances see those changes on their next read$/,
        ];
        for (const line of w.stderr
          .join("")
          .split("\n")
          .filter((l) => l !== "")) {
          assert.ok(
            allowed.some((re) => re.test(line)),
            `a writer warned: ${line}`,
          );
          assert.ok(!line.includes(password) && !line.includes(user), "credentials in a warning");
        }
        assert.deepEqual(w.stray, [], "a writer printed something unexpected");
      }

      const secrets = [user, password, `${user}:${password}`];
      assert.match(c.errors[0]?.message ?? "", /^cannot open the store: /, "the late writer's first error");
      for (const [name, w] of [
        ["a", a],
        ["b", b],
        ["c", c],
      ] as const) {
        const unavailable = w.errors.filter((e) => e.code === "STORE_UNAVAILABLE");
        // The only other failure a caller may see is a CONFLICT after the manager's own retries.
        assert.deepEqual(
          w.errors.filter((e) => e.code !== "STORE_UNAVAILABLE" && e.code !== "CONFLICT"),
          [],
          `writer ${name}: unexpected errors`,
        );
        assert.ok(unavailable.length > 0, `writer ${name} saw no error while the server was down`);
        for (const e of unavailable) {
          // One line naming the action, the server (host, port, database, schema, no user) and what to do.
          assert.match(
            e.message,
            /^cannot [a-z ]+: the postgres server at postgres:\/\/127\.0\.0\.1:\d+\/openclaw_rel_[0-9a-f]+\?schema=rel is unavailable \([^()\n]+\); retry once it is back$/,
            `writer ${name}: unclear error`,
          );
          // A SQLSTATE comes with the server's words for it ("the database system is starting up"), never alone.
          assert.doesNotMatch(e.message, /\([0-9][0-9A-Z]{4}\)/, `writer ${name}: a bare SQLSTATE`);
          for (const s of secrets) assert.ok(!e.message.includes(s), `writer ${name}: an error shows the credentials: ${e.message}`);
          // Every failure falls in an outage or shortly after the server is back.
          assert.ok(
            outages.some((o) => e.at >= o.from && e.at <= o.to + GRACE_MS),
            `writer ${name} failed ${((e.at - started) / 1000).toFixed(1)} s into the run, outside any outage: ${e.message}`,
          );
        }
        // Both outages were felt, and the writer carried on after each.
        for (const o of name === "c" ? outages.slice(-1) : outages) {
          assert.ok(
            unavailable.some((e) => e.at >= o.from && e.at <= o.to + GRACE_MS),
            `writer ${name} saw no error during the ${o.mode} outage`,
          );
          assert.ok(
            w.ackTimes.some((at) => at > o.to),
            `writer ${name} acknowledged nothing after the ${o.mode} outage`,
          );
        }
        for (const s of secrets) assert.ok(!w.stderr.join("").includes(s));
        // Messages sent again with their client message id, some of them across an outage, are recognised and not stored again.
        if (name !== "c") assert.ok(w.resent.length > 0, `writer ${name} never sent a message again`);
        assert.deepEqual(
          w.resent.filter((r) => !r.endsWith(" dup")),
          [],
          `writer ${name}: a message sent again with the same client message id was stored again`,
        );
      }

      const view = await readPgStore(url);
      const { messages, switches } = verifyStored(view, USERS, [
        { tag: "a", acked: a.acked, clean: true },
        { tag: "b", acked: b.acked, clean: true },
        { tag: "c", acked: c.acked, clean: true },
      ]);
      const errors = [...a.errors, ...b.errors, ...c.errors];
      t.diagnostic(
        `${((Date.now() - started) / 1000).toFixed(1)} s, ${messages} messages stored; acknowledged: a ${ackTotal(a.acked)}, b ${ackTotal(b.acked)}, c (started during the second outage) ${ackTotal(c.acked)}; ` +
          `${errors.filter((e) => e.code === "STORE_UNAVAILABLE").length} STORE_UNAVAILABLE and ${errors.filter((e) => e.code === "CONFLICT").length} CONFLICT errors retried, ` +
          `${a.duplicates + b.duplicates + c.duplicates} retries found already stored, ${a.resent.length + b.resent.length + c.resent.length} acknowledged messages sent again and recognised; ${switches} writer switches`,
      );
      // What a caller was told, each distinct message once (the port and database vary from run to run).
      const seen = new Map<string, number>();
      for (const e of errors) {
        const shape = e.message.replace(/127\.0\.0\.1:\d+\/openclaw_rel_[0-9a-f]+/, "HOST/DB");
        seen.set(shape, (seen.get(shape) ?? 0) + 1);
      }
      for (const [shape, n] of seen) t.diagnostic(`${n}× ${shape}`);
    } finally {
      for (const w of writers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill("SIGKILL");
      await Promise.all(writers.map((w) => w.exited));
      await cleanup();
      // The cluster (and everything in it) is removed after the file's tests.
    }
  });
});
