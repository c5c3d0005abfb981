import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { SessionManager } from "../../src/manager/manager.js";
import { startGatewayProcess, type GatewayProcess } from "../helpers/gateway-process.js";
import { testStoreUri } from "../helpers/test-store.js";
import { until } from "../helpers/until.js";

const DAY = 86_400_000;

describe("gateway: retention on a schedule", () => {
  let gw: GatewayProcess;
  let dir: string;
  const ids: Record<string, string> = {};
  const storeUri = testStoreUri();
  const auditLines = () =>
    gw
      .stderr()
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as { event?: string; op?: string; sessions?: Array<{ id: string; key: string }>; rule?: string; credential?: unknown })
      .filter((l) => l.event === "audit" && l.op === "prune");
  const admin = async <T>(path: string, init: RequestInit = {}): Promise<T> => {
    const res = await fetch(`${gw.url}/admin${path}`, { ...init, headers: { authorization: `Bearer ${gw.token}`, "content-type": "application/json" } });
    assert.equal(res.status, 200, path);
    return (await res.json()) as T;
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "openclaw-retention-"));
    const stateDir = join(dir, "state");
    await mkdir(stateDir, { recursive: true });
    let now = new Date(Date.now() - 30 * DAY);
    const m = await SessionManager.open({ stateDir, ...(storeUri !== undefined ? { storeUri } : {}), config: {}, now: () => now, warn: () => undefined });
    try {
      ids.archived = (await m.receive({ channel: "web", senderId: "archived" }, "old")).id;
      await m.archive(ids.archived);
      now = new Date(Date.now() - 20 * DAY);
      ids.expired = (await m.receive({ channel: "web", senderId: "expired" }, "stale")).id;
      now = new Date();
      ids.live = (await m.receive({ channel: "web", senderId: "live" }, "fresh")).id;
      ids.victim = (await m.receive({ channel: "web", senderId: "victim" }, "archived later")).id;
    } finally {
      await m.close();
    }
    await writeFile(join(stateDir, "config.json"), "{}");
    gw = await startGatewayProcess({ ...(storeUri !== undefined ? { storage: { uri: storeUri } } : {}), sessions: { maintenance: { deleteArchivedAfter: 0, deleteExpiredAfter: "7d", intervalMs: 1000 } } }, { stateDir });
  });
  after(async () => {
    assert.equal(await gw.stop(), 0);
    await rm(dir, { recursive: true, force: true });
  });

  it("deletes what the rules select at start, each with an audit line, and keeps the live session", async () => {
    const lines = await until("two prune audit lines", () => {
      const a = auditLines();
      return a.length >= 2 ? a : undefined;
    });
    assert.deepEqual(
      lines.map((l) => [l.sessions?.[0]?.id, l.rule, l.credential]),
      [
        [ids.archived, "deleteArchivedAfter", null],
        [ids.expired, "deleteExpiredAfter", null],
      ],
    );
    const list = await admin<{ sessions: Array<{ id: string }> }>("/sessions?status=all");
    assert.deepEqual(list.sessions.map((s) => s.id).sort(), [ids.live, ids.victim].sort());
  });

  it("a later run deletes a session once it qualifies, and the deletion is an event on the admin stream", async () => {
    const abort = new AbortController();
    const res = await fetch(`${gw.url}/admin/events`, { headers: { authorization: `Bearer ${gw.token}` }, signal: abort.signal });
    assert.equal(res.status, 200);
    let seen = "";
    const reading = (async () => {
      const decoder = new TextDecoder();
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) seen += decoder.decode(chunk, { stream: true });
      } catch {
        // Aborted at the end of the test.
      }
    })();
    try {
      await until("the stream to open", () => (seen.includes("event: ready") ? true : undefined));
      await admin(`/sessions/${ids.victim}/archive`, { method: "POST" });
      const deleted = await until("the deleted event", () => seen.split("\n\n").find((f) => f.includes("event: deleted") && f.includes(ids.victim as string)));
      assert.match(deleted, /"origin":"(local|remote)"/);
      const audit = await until("its audit line", () => auditLines().find((l) => l.sessions?.[0]?.id === ids.victim));
      assert.equal(audit.rule, "deleteArchivedAfter");
      const list = await admin<{ sessions: Array<{ id: string }> }>("/sessions?status=all");
      assert.deepEqual(
        list.sessions.map((s) => s.id),
        [ids.live],
        "the live session is never deleted",
      );
      // The same rules on demand: nothing left to delete, and the live session is not selected.
      const res = await fetch(`${gw.url}/admin/prune?dryRun=1`, { method: "POST", headers: { authorization: `Bearer ${gw.token}` } });
      assert.equal(res.status, 200);
      const report = (await res.json()) as { dryRun: boolean; count: number; total: number };
      assert.deepEqual([report.dryRun, report.count, report.total], [true, 0, 1]);
    } finally {
      abort.abort();
      await reading;
    }
  });
});
