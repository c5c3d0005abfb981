import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { withPostgresDatabase } from "../test/helpers/postgres.js";
import { envInt, seededRandom, tempDir } from "./_helpers.js";
import { ackTotal, mergeAcks, readPgStore, startPgWriter, verifyStored, type PgWriter } from "./_pg-helpers.js";

/** 30 s by default, as the file-store contention test; RELIABILITY_CONTENTION_SECONDS shortens a quick local run. */
const SECONDS = envInt("RELIABILITY_CONTENTION_SECONDS", 30);
const USERS = ["ann", "bob", "cyd"];

// OPENCLAW_TEST_POSTGRES_URL, else the server on 127.0.0.1:5432, else a
// throwaway cluster; none is a skip locally and a failure under CI=true.
const db = await withPostgresDatabase();

describe("postgres contention: two manager processes append to the same sessions, one SIGKILLed again and again", { skip: "skip" in db ? db.skip : false }, () => {
  it(`for ${SECONDS} s every acknowledged append is stored once and in its writer's order`, async (t) => {
    if ("skip" in db) return;
    const url = db.freshSchemaUrl();
    const rng = seededRandom();
    t.diagnostic(`server: ${db.source}; seed ${rng.seed} (replay with RELIABILITY_SEED=${rng.seed})`);
    const { dir, cleanup } = await tempDir("pg-contention");
    const started = Date.now();
    const deadline = started + SECONDS * 1000;
    const writers: PgWriter[] = [];
    const start = (...args: Parameters<typeof startPgWriter>) => {
      const w = startPgWriter(...args);
      writers.push(w);
      return w;
    };
    try {
      // Both open the empty schema at once: the migration runs under an advisory lock, once.
      const steady = start(url, dir, "s", SECONDS, USERS);
      const killedAcks = new Map<string, number[]>();
      const killedErrors: string[] = [];
      const killedResent: string[] = [];
      let kills = 0;
      let killsBeforeAck = 0;
      while (Date.now() < deadline) {
        const victim = start(url, dir, "k", undefined, USERS);
        if (rng.next() < 0.25) {
          // Some kills land while the writer opens the store or looks for where it stopped.
          await delay(Math.floor(rng.next() * 600));
        } else {
          // Most kills land while appends are in flight, however slowly a loaded machine starts the writer.
          await Promise.race([victim.ready, delay(30_000)]);
          await Promise.race([victim.acks(1 + Math.floor(rng.next() * 12)), delay(5000)]);
          await delay(Math.floor(rng.next() * 15));
        }
        if (victim.count() === 0) killsBeforeAck++;
        victim.child.kill("SIGKILL");
        const exit = await victim.exited;
        assert.equal(exit.signal, "SIGKILL", `kill ${kills + 1}: the writer exited by itself (${String(exit.code)}): ${victim.stderr.join("")}`);
        assert.deepEqual(victim.stray, [], "the writer printed something unexpected");
        mergeAcks(killedAcks, victim.acked);
        killedErrors.push(...victim.errors.map((e) => `${e.code} ${e.message}`));
        killedResent.push(...victim.resent);
        kills++;
      }
      // A clean run afterwards carries on where the killed ones stopped.
      const last = start(url, dir, "k", 1, USERS);
      const lastExit = await last.exited;
      assert.equal(lastExit.code, 0, last.stderr.join(""));
      mergeAcks(killedAcks, last.acked);
      killedErrors.push(...last.errors.map((e) => `${e.code} ${e.message}`));
      killedResent.push(...last.resent);
      // A message sent again with its client message id, by the same process or by a restarted one, is recognised and not stored again.
      assert.ok(steady.resent.length > 0, "the steady writer never sent a message again");
      assert.deepEqual(
        [...steady.resent.map((r) => `steady: ${r}`), ...killedResent.map((r) => `restarted: ${r}`)].filter((r) => !r.endsWith(" dup")),
        [],
        "a message sent again with the same client message id was stored again",
      );

      const steadyExit = await steady.exited;
      assert.equal(steadyExit.code, 0, steady.stderr.join(""));
      assert.equal(steady.stderr.join(""), "", "the steady writer warned");
      assert.deepEqual(steady.stray, []);
      // The server stayed up: the only failure a caller may see is a CONFLICT after the manager's own retries.
      const errors = [...steady.errors.map((e) => `${e.code} ${e.message}`), ...killedErrors];
      assert.deepEqual(
        errors.filter((e) => !e.startsWith("CONFLICT ")),
        [],
        "errors other than CONFLICT with the server up",
      );

      const view = await readPgStore(url);
      const { messages, switches } = verifyStored(view, USERS, [
        { tag: "s", acked: steady.acked, clean: true },
        { tag: "k", acked: killedAcks, clean: false },
      ]);
      const figures = `${((Date.now() - started) / 1000).toFixed(1)} s, ${kills} kills (${killsBeforeAck} before the first ack), ${messages} messages stored; acknowledged: steady ${ackTotal(steady.acked)}, killed ${ackTotal(killedAcks)}; ${errors.length} CONFLICTs retried, ${steady.duplicates + last.duplicates} retries found already stored; ${steady.resent.length + killedResent.length} acknowledged messages sent again (${killedResent.length} by a restarted writer), all recognised; ${switches} writer switches`;
      t.diagnostic(figures);
      // Without these the test would prove nothing: the two really wrote the same sessions, and kills happened mid-run.
      assert.ok(kills >= Math.max(2, Math.floor(SECONDS / 10)), `only ${kills} kills in ${SECONDS} s`);
      assert.ok(kills - killsBeforeAck >= Math.min(2, kills), `only ${kills - killsBeforeAck} kills landed after an acknowledged append`);
      for (const user of USERS) {
        assert.ok((steady.acked.get(user)?.length ?? 0) > 0, `steady writer acknowledged nothing for ${user}`);
        assert.ok((killedAcks.get(user)?.length ?? 0) > 0, `killed writer acknowledged nothing for ${user}`);
      }
      assert.ok(switches >= USERS.length * 2, `the writers hardly interleaved (${switches} switches)`);
    } finally {
      // A failed assertion leaves no writer running.
      for (const w of writers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill("SIGKILL");
      await Promise.all(writers.map((w) => w.exited));
      await cleanup();
      await db.admin(`DROP SCHEMA IF EXISTS ${new URL(url).searchParams.get("schema") ?? "none"} CASCADE`).catch(() => undefined);
    }
  });
});
