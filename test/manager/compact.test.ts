import assert from "node:assert/strict";
import { readdirSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { SessionManager } from "../../src/manager/manager.js";
import { openStore } from "../../src/store/open.js";
import { openTestManager } from "../helpers/manager-open.js";
import { FILE_STORE_ONLY } from "../helpers/test-store.js";

const DAY = 86_400_000;

describe("compact", () => {
  it("marks expired sessions, archives long-expired ones, folds long histories, and dry-run changes nothing", { skip: FILE_STORE_ONLY }, async () => {
    const env = await openTestManager({ config: { sessions: { maxHistoryLength: 100, expirationMs: DAY, archiveAfterMs: 2 * DAY } } });
    try {
      const m = env.manager;
      const old = await m.receive({ channel: "telegram", senderId: "old" }, "ancient");
      env.advance(2 * DAY + 1);
      const stale = await m.receive({ channel: "telegram", senderId: "stale" }, "yesterday");
      env.advance(DAY + 1);
      // Appending under these limits would fold at once: write the long history through a manager with a higher limit.
      const loose = await SessionManager.open({ stateDir: env.dir, config: { sessions: { maxHistoryLength: 1000, expirationMs: DAY } }, now: () => m.now(), warn: () => {} });
      const busy = await loose.create({ key: "dm:telegram:busy" });
      for (let i = 0; i < 130; i++) await loose.record({ ref: busy.id }, { role: i % 2 ? "assistant" : "user", content: `line ${i} REF-${i}` });
      await loose.close();
      const stored = await openStore(`file:${env.dir}`, { warn: () => {} });
      const tmp = join(env.dir, "sessions", `.${busy.id}.999999.deadbeef.tmp`);
      writeFileSync(tmp, "partial");
      // Only temp files old enough that no live writer can own them are leftovers.
      utimesSync(tmp, new Date(Date.now() - 3_600_000), new Date(Date.now() - 3_600_000));

      const dry = await m.compact({ dryRun: true });
      assert.equal(dry.dryRun, true);
      assert.equal((await m.get(busy.id)).messages.length, 130, "dry run folds nothing");
      assert.equal((await stored.get(old.id))?.session.status, "active", "dry run does not even persist the expiry");
      assert.ok(dry.actions.some((a) => a.id === busy.id && a.folded > 0));

      const report = await m.compact();
      const byId = new Map(report.actions.map((a) => [a.id, a]));
      assert.equal(byId.get(old.id)?.archived, true, "expired for longer than archiveAfterMs → archived");
      assert.equal(byId.get(stale.id)?.expired, true);
      assert.equal(byId.get(stale.id)?.archived, false);
      assert.ok((byId.get(busy.id)?.folded ?? 0) > 0);
      assert.equal((await stored.get(old.id))?.session.status, "archived");
      assert.equal((await stored.get(stale.id))?.session.status, "expired", "expiry is now persisted");
      assert.ok((await m.get(busy.id)).messages.length <= 100);
      assert.equal((await m.prunedHistory(busy.id)).length + (await m.get(busy.id)).messages.length, 130);
      assert.ok((report.bytesBefore ?? 0) > 0 && (report.bytesAfter ?? 0) > 0);
      await stored.close();
      assert.ok(!readdirSync(join(env.dir, "sessions")).some((f) => f.endsWith(".tmp")), "leftover temp file removed");
    } finally {
      await env.cleanup();
    }
  });
});
