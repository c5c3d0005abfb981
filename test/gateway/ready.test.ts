import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { connect, createServer, type Server, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startGateway, type GatewayLog } from "../../src/gateway/server.js";
import { SessionManager } from "../../src/manager/manager.js";
import { withPostgresDatabase } from "../helpers/postgres.js";

const TOKEN = "a-token-of-some-length-0123456789";
const quiet = (): GatewayLog => ({ debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, child: () => quiet() });
const db = await withPostgresDatabase();

type Ready = { ready: boolean; store?: { backend: string; ms: number }; reason?: string };

/** A TCP relay to `target`, which the test can cut (as if the server went away): then its port refuses connections. */
async function relay(target: { host: string; port: number }): Promise<{ port: number; cut(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(target.port, target.host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("error", () => undefined);
      s.on("close", () => sockets.delete(s));
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    cut: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

describe("gateway: GET /ready", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "oc-ready-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("answers 200 with the store's backend while the store answers, 503 with one line once it is closed; /health stays 200", async () => {
    const manager = await SessionManager.open({ stateDir: dir, config: {}, warn: () => undefined });
    const gateway = await startGateway({ manager, host: "127.0.0.1", port: 0, token: TOKEN, log: quiet() });
    try {
      // No token: a load balancer's probe carries none.
      const up = await fetch(`${gateway.url}/ready`);
      assert.equal(up.status, 200);
      const body = (await up.json()) as Ready;
      assert.equal(body.ready, true);
      assert.equal(body.store?.backend, "file");
      assert.equal(typeof body.store?.ms, "number");
      assert.ok(!JSON.stringify(body).includes(dir), "where the store lives is not told");

      await manager.close();
      const down = await fetch(`${gateway.url}/ready`);
      assert.equal(down.status, 503);
      assert.deepEqual(await down.json(), { ready: false, reason: "the store is closed" });
      assert.equal((await fetch(`${gateway.url}/health`)).status, 200, "liveness is not readiness");
    } finally {
      await gateway.close();
      await manager.close();
    }
  });

  it("answers 503 when PostgreSQL stops answering, without the connection's credentials", { skip: "skip" in db ? db.skip : false }, async () => {
    if ("skip" in db) return;
    const real = new URL(db.freshSchemaUrl());
    const cut = await relay({ host: real.hostname, port: Number(real.port || 5432) });
    const via = new URL(real);
    via.port = String(cut.port);
    // A password the server does not ask for (trust) still must never be shown.
    via.password = "pw-never-shown-4711";
    const manager = await SessionManager.open({ stateDir: join(dir, "pg"), config: {}, storeUri: via.toString(), warn: () => undefined });
    const gateway = await startGateway({ manager, host: "127.0.0.1", port: 0, token: TOKEN, log: quiet() });
    try {
      const up = await fetch(`${gateway.url}/ready`);
      assert.equal(up.status, 200);
      assert.equal(((await up.json()) as Ready).store?.backend, "postgres");

      await cut.cut();
      const down = await fetch(`${gateway.url}/ready`);
      assert.equal(down.status, 503);
      const text = await down.text();
      const body = JSON.parse(text) as Ready;
      assert.equal(body.ready, false);
      assert.match(body.reason ?? "", /^the store is unavailable: /);
      assert.ok(!(body.reason ?? "").includes("\n"), "one line");
      assert.ok(!text.includes("pw-never-shown-4711") && !text.includes(`${real.username}@`), text);
    } finally {
      await gateway.close();
      await manager.close();
    }
  });
});
