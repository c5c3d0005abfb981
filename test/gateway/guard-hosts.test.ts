import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startGateway, type Gateway, type GatewayLog } from "../../src/gateway/server.js";
import { SessionManager } from "../../src/manager/manager.js";

const TOKEN = "a-token-of-some-length-0123456789";

/** A request to the gateway's socket with any Host header (fetch will not send a chosen one). */
function send(gateway: Gateway, path: string, headers: Record<string, string>, body?: string): Promise<number> {
  const u = new URL(gateway.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path, method: body === undefined ? "GET" : "POST", headers }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject);
    req.end(body);
  });
}

const quiet = (): GatewayLog => ({ debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, child: () => quiet() });

describe("gateway request guard: which Host and Origin values name the gateway", () => {
  let dir: string;
  let manager: SessionManager;
  /** The same settings with auth mode "none": a gateway with no token is one only by asking for it. */
  let tokenless: SessionManager;
  const open: Gateway[] = [];
  const start = async (host: string, token: string | undefined): Promise<Gateway> => {
    const gateway = await startGateway({ manager: token === undefined ? tokenless : manager, host, port: 0, token, log: quiet() });
    open.push(gateway);
    return gateway;
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "oc-guard-"));
    manager = await SessionManager.open({
      stateDir: dir,
      storeUri: "memory:",
      config: { gateway: { allowedHosts: ["gw.example", "proxy.example:8443", "[fd00::1]:9000"] } },
      warn: () => undefined,
    });
    tokenless = await SessionManager.open({
      stateDir: dir,
      storeUri: "memory:",
      config: { gateway: { allowedHosts: ["gw.example", "proxy.example:8443", "[fd00::1]:9000"], auth: { mode: "none" } } },
      warn: () => undefined,
    });
  });
  after(async () => {
    for (const g of open) await g.close();
    await manager?.close();
    await tokenless?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("on a loopback bind: the loopback names at the bound port, the bound address, and gateway.allowedHosts (a bare host at any port)", async () => {
    // Anywhere in 127/8 is loopback: the bound literal must be accepted too.
    const gateway = await start("127.0.0.2", undefined);
    const port = new URL(gateway.url).port;
    const status = (host: string) => send(gateway, "/admin/status", { host });
    for (const host of [`127.0.0.2:${port}`, `127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, "gw.example", "gw.example:443", "GW.example:1", "proxy.example:8443", "[fd00::1]:9000"]) {
      assert.equal(await status(host), 200, host);
    }
    for (const host of ["127.0.0.2", `127.0.0.2:${Number(port) + 1}`, `localhost:${Number(port) + 1}`, "proxy.example", "proxy.example:8444", "evil.gw.example", "gw.example.evil", "[fd00::1]", `localhost.:${port}`]) {
      assert.equal(await status(host), 403, JSON.stringify(host));
    }
  });

  it("a page under an allowed name counts as the gateway's own behind a proxy that rewrites Host", async () => {
    const gateway = await start("127.0.0.1", undefined);
    const port = new URL(gateway.url).port;
    const post = (origin: string) => send(gateway, "/v1/conversations", { host: `127.0.0.1:${port}`, origin, "content-type": "application/json" }, "{}");
    assert.equal(await post("https://gw.example"), 200);
    assert.equal(await post("https://proxy.example:8443"), 200);
    assert.equal(await post(`http://localhost:${port}`), 200, "another loopback name of this very gateway");
    assert.equal(await post("https://proxy.example"), 403);
    assert.equal(await post("https://attacker.example"), 403);
    assert.equal(await post("file://"), 403);
  });

  it("bound beyond loopback with a token, any Host passes (the token guards it), and the cross-site and JSON rules still hold", async () => {
    const gateway = await start("0.0.0.0", TOKEN);
    const port = new URL(gateway.url).port;
    const auth = { authorization: `Bearer ${TOKEN}` };
    assert.equal(await send(gateway, "/admin/status", { ...auth, host: `192.0.2.7:${port}` }), 200);
    assert.equal(await send(gateway, "/admin/status", { ...auth, host: `192.0.2.7:${port}`, "sec-fetch-site": "cross-site" }), 403);
    assert.equal(await send(gateway, "/v1/conversations", { ...auth, host: `192.0.2.7:${port}`, origin: `http://192.0.2.7:${port}`, "content-type": "application/json" }, "{}"), 200);
    assert.equal(await send(gateway, "/v1/conversations", { ...auth, host: `192.0.2.7:${port}`, "content-type": "text/plain" }, "{}"), 415);
  });

  it("refuses an allowedHosts entry that is not a host or host:port, naming the key", async () => {
    for (const bad of ["https://gw.example", "gw.example/path", "gw example", ""]) {
      await assert.rejects(
        SessionManager.open({ stateDir: dir, storeUri: "memory:", config: { gateway: { allowedHosts: [bad] } }, warn: () => undefined }),
        (err: Error) => /gateway\.allowedHosts/.test(err.message) && /host name or host:port/.test(err.message),
        bad,
      );
    }
  });
});
