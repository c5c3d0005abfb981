import assert from "node:assert/strict";
import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { runCli } from "../helpers/cli-run.js";
import { startGatewayProcess, type GatewayProcess } from "../helpers/gateway-process.js";

/** A port nothing listens on right now (the gateway must be found where the config says). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Polls /health until the gateway answers, within a deadline. */
async function healthy(url: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      if ((await fetch(`${url}/health`)).status === 200) return;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) assert.fail(`no answer from ${url}/health`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

type StatusJson = {
  gateway?: { url: string; pid: number; memory: { rss: number; heapUsed: number }; sessionsCached: number; uptimeSeconds: number; turnsPerMinute: { lastMinute: number; lastHour: number } } | null;
  gatewayError?: string;
};

describe("status --verbose: the running gateway's own figures", () => {
  let gw: GatewayProcess;
  let port: number;
  const status = (args: string[], env: Record<string, string | undefined> = {}) => runCli(["--state-dir", gw.stateDir, "status", "--verbose", ...args], gw.home, { env });

  before(async () => {
    port = await freePort();
    // No token in the environment: the gateway generates one into the state dir, where status finds it.
    gw = await startGatewayProcess({ gateway: { port, model: { provider: "echo" } } }, { env: { OPENCLAW_GATEWAY_TOKEN: "" }, args: ["--port", String(port)] });
    await healthy(gw.url);
  });
  after(async () => {
    await gw?.stop();
  });

  it("asks the gateway the config names, with the generated token, and says where each figure comes from", async () => {
    assert.equal(gw.url, `http://127.0.0.1:${port}`);
    const turn = await fetch(`${gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${gw.token}`, "content-type": "application/json", "x-openclaw-session-key": "dm:web:st" },
      body: JSON.stringify({ model: "echo", messages: [{ role: "user", content: "hello" }] }),
    });
    assert.equal(turn.status, 200);
    await turn.json();

    const r = await status([]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^gateway at http://127\\.0\\.0\\.1:${port} \\(pid ${gw.child.pid}\\)$`, "m"));
    const section = r.stdout.slice(r.stdout.indexOf("gateway at"));
    assert.match(section, /^\s+rss\s+[\d.]+ MiB$/m);
    assert.match(section, /^\s+sessions cached\s+1$/m);
    assert.match(section, /^\s+turns\/min\s+[\d.]+ over the last minute · [\d.]+ over the last hour$/m);
    assert.match(r.stdout, /^memory \(this CLI process\)$/m);

    const json = JSON.parse((await status(["--json"])).stdout) as StatusJson;
    assert.equal(json.gateway?.pid, gw.child.pid);
    assert.equal(json.gateway?.url, gw.url);
    assert.ok((json.gateway?.memory.rss ?? 0) > 1_000_000);
    assert.ok((json.gateway?.turnsPerMinute.lastHour ?? 0) > 0, "the turn above is counted");
    assert.equal(json.gatewayError, undefined);
  });

  it("says in one line when the gateway refuses the token, and still shows the CLI's own figures", async () => {
    const r = await status([], { OPENCLAW_GATEWAY_TOKEN: "not-the-gateway-token-0123" });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^the gateway at http://127\\.0\\.0\\.1:${port} refused the request \\(401\\): .*admin:read.*; the memory figures below are this CLI process's$`, "m"));
    assert.match(r.stdout, /^memory \(this CLI process\)$/m);
  });

  it("says in one line that no gateway answers once it has stopped; --json has gateway null and the reason", async () => {
    const stateDir = gw.stateDir;
    const home = gw.home;
    const child = gw.child;
    // Stopped, its state kept for status to read (stop() removes it).
    child.kill("SIGTERM");
    await new Promise((resolve) => (child.exitCode !== null ? resolve(undefined) : child.once("exit", resolve)));
    const r = await runCli(["--state-dir", stateDir, "status", "--verbose"], home);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split("\n").filter((l) => l.includes("gateway"));
    assert.deepEqual(lines, [`no gateway answering at http://127.0.0.1:${port} (connection refused); the memory figures below are this CLI process's`]);
    assert.match(r.stdout, /^memory \(this CLI process\)\n\s+rss\s+[\d.]+ MiB$/m);
    const json = JSON.parse((await runCli(["--state-dir", stateDir, "status", "--verbose", "--json"], home)).stdout) as StatusJson;
    assert.equal(json.gateway, null);
    assert.match(json.gatewayError ?? "", /^no gateway answering at http:\/\/127\.0\.0\.1:\d+ \(connection refused\)$/);
    const plain = JSON.parse((await runCli(["--state-dir", stateDir, "status", "--json"], home)).stdout) as StatusJson;
    assert.ok(!("gateway" in plain), "without --verbose no gateway is asked");
  });
});
