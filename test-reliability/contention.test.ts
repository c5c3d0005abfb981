import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it, type TestContext } from "node:test";
import { openFileStore } from "../src/store/file/file-store.js";
import { envInt, readStore, runCli, startWriter, tempDir } from "./_helpers.js";

/** 30 s by default; RELIABILITY_CONTENTION_SECONDS shortens a quick local run. */
const SECONDS = envInt("RELIABILITY_CONTENTION_SECONDS", 30);
const USERS = ["u0", "u1", "u2", "u3", "u4", "u5"];
// Small limits make folds (summarise outside the lock, re-check, apply) race the other writers too.
// A gateway flat out starves the other processes of the session locks (the
// file lock is polled with backoff, not queued fairly), so the main run has
// it pause up to 40 ms between messages, as a gateway waiting for traffic
// does, and the writers really interleave; a shorter run keeps it flat out.
const PACE_MS = envInt("RELIABILITY_GATEWAY_PACE_MS", 40);
const CONFIG = { sessions: { maxHistoryLength: 20, lowWaterMark: 0.5 } };

describe("contention: a gateway, a CLI-like process and the real CLI write the same sessions", () => {
  it(`for ${SECONDS} s they lose nothing, duplicate nothing, keep each writer's order and create one session per key`, (t) => contend(t, SECONDS, PACE_MS));

  it(`with the gateway writing flat out for ${Math.ceil(SECONDS / 2)} s, nothing is lost or duplicated either`, (t) => contend(t, Math.ceil(SECONDS / 2), 0));
});

/** Runs the three writers for `seconds`, then checks every session, message and index entry. */
async function contend(t: TestContext, seconds: number, paceMs: number): Promise<void> {
  const { dir, cleanup } = await tempDir("contention");
  try {
    await writeFile(join(dir, "config.json"), JSON.stringify(CONFIG));
    const deadline = Date.now() + seconds * 1000;
    const gateway = startWriter(dir, "g", "gateway", seconds, USERS, paceMs);
    const cliLike = startWriter(dir, "c", "cli", seconds, USERS);
    // The real CLI, one process per message, as an operator's script would run it.
    const cliAcked = new Map<string, number>(USERS.map((u) => [u, 0]));
    let turn = 0;
    while (Date.now() < deadline) {
      const user = USERS[turn++ % USERS.length] ?? "u0";
      const n = cliAcked.get(user) ?? 0;
      const r = await runCli(["--state-dir", dir, "sessions", "append", "--dm", `rel:${user}`, `x:${user}:${n}`], dir);
      assert.equal(r.code, 0, `openclaw sessions append failed: ${r.stderr}`);
      assert.equal(r.stderr, "", "the CLI warned");
      cliAcked.set(user, n + 1);
    }
    for (const w of [gateway, cliLike]) {
      const exit = await w.exited;
      assert.equal(exit.code, 0, w.stderr.join(""));
      assert.equal(w.stderr.join(""), "", "a writer warned");
    }

    const view = await readStore(dir);
    assert.deepEqual(view.unparsable, []);
    assert.deepEqual(view.warnings, []);
    assert.deepEqual(
      view.sessions.map((s) => s.key).sort(),
      USERS.map((u) => `dm:rel:${u}`),
      "one session per routing key",
    );
    let total = 0;
    for (const user of USERS) {
      const session = view.sessions.find((s) => s.key === `dm:rel:${user}`) ?? assert.fail(`no session for ${user}`);
      const contents = session.history.map((m) => m.content);
      assert.equal(new Set(session.history.map((m) => m.id)).size, contents.length, `${user}: a message id appears twice`);
      assert.equal(new Set(contents).size, contents.length, `${user}: a message was recorded twice`);
      const acked = { g: gateway.acked.get(user)?.length ?? 0, c: cliLike.acked.get(user)?.length ?? 0, x: cliAcked.get(user) ?? 0 };
      for (const [tag, count] of Object.entries(acked)) {
        const prefix = `${tag}:${user}:`;
        const stored = contents.filter((c) => c.startsWith(prefix)).map((c) => Number(c.slice(prefix.length)));
        // Every writer finished cleanly, so what is stored is exactly what was acknowledged, in its order.
        assert.deepEqual(
          stored,
          Array.from({ length: count }, (_, i) => i),
          `${user}: writer ${tag} lost, duplicated or reordered messages`,
        );
      }
      assert.equal(contents.length, acked.g + acked.c + acked.x, `${user}: messages nobody sent`);
      total += contents.length;
    }
    t.diagnostic(`${total} messages in ${seconds} s (gateway pause ≤ ${paceMs} ms): gateway ${gateway.count()}, CLI-like ${cliLike.count()}, CLI ${[...cliAcked.values()].reduce((a, b) => a + b, 0)}`);

    // The derived index agrees with the documents it was updated from under contention.
    const store = await openFileStore({ dir, warn: (m) => assert.fail(m) });
    const listed = new Map((await store.list({})).items.map((s) => [s.id, s]));
    for (const s of view.sessions) {
      assert.equal(listed.get(s.id)?.revision, s.revision, `index revision of ${s.key}`);
      assert.equal(listed.get(s.id)?.messageCount, s.messages.length, `index message count of ${s.key}`);
    }
  } finally {
    await cleanup();
  }
}
