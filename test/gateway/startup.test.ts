import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { test } from "node:test";
import { bannerJson, bannerLines, gatewayBanner } from "../../src/cli/commands/_gateway-banner.js";
import { defaultConfig } from "../../src/config/defaults.js";
import { CLI, sandbox } from "../helpers/cli-run.js";
import { startFakeUpstream } from "../helpers/fake-upstream.js";
import { startGatewayProcess } from "../helpers/gateway-process.js";

test("`gateway --json` prints one object: url, dashboard, auth, model and its window, store", async () => {
  const upstream = await startFakeUpstream();
  const gw = await startGatewayProcess({ gateway: { model: { baseUrl: upstream.baseUrl, model: "fake-model", maxRetries: 0 } } });
  try {
    const first = gw.first as { url: string; dashboard: string; auth: string; tokenSource: string; model: Record<string, unknown>; store: { uri: string; source: string } };
    assert.equal(first.url, gw.url);
    assert.equal(first.dashboard, `${gw.url}/`);
    assert.equal(first.auth, "token");
    assert.equal(first.tokenSource, "env");
    assert.equal("token" in first, false, "a token from the environment is never printed");
    assert.deepEqual(first.model, { name: "fake-model", provider: "openai-compatible", baseUrl: upstream.baseUrl, window: 8192, windowModel: "fake-model" });
    assert.deepEqual(first.store, { uri: `file:${gw.stateDir}`, source: "default" });
  } finally {
    const code = await gw.stop().finally(() => upstream.close());
    assert.equal(code, 0, `the gateway stopped gracefully on SIGTERM: ${gw.stderr()}`);
  }
});

test("without --json the start-up is one block: URL first, auth, the generated token once, model, store, dashboard last", async (t) => {
  const sb = await sandbox(t);
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith("OPENCLAW_")) env[k] = v;
  const child = spawn(process.execPath, [CLI, "--state-dir", sb.stateDir, "gateway", "--port", "0"], { env: { ...env, HOME: sb.home, NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"] });
  // Gone before the sandbox is removed (its after-hook): a gateway still running would write into it meanwhile.
  const gone = new Promise((resolve) => child.once("exit", resolve));
  const lines: string[] = [];
  try {
    for await (const line of createInterface({ input: child.stdout })) {
      lines.push(line);
      if (line.startsWith("dashboard:")) break;
    }
  } finally {
    child.kill("SIGKILL");
    await gone;
  }
  assert.match(lines[0] ?? "", /^listening on http:\/\/127\.0\.0\.1:\d+$/);
  assert.match(lines[1] ?? "", /^auth: +token: generated now, kept in .*gateway-token \(shown this once/);
  assert.match(lines[2] ?? "", /^ {2}\S{32,}$/);
  assert.match(lines[3] ?? "", /^model: +none: set gateway\.model in config\.json \(or try `--model echo`\)/);
  assert.equal(lines[4], `store:     file:${sb.stateDir} (default)`);
  assert.match(lines[5] ?? "", /^dashboard: http:\/\/127\.0\.0\.1:\d+\/#token=\S+$/);
  assert.equal(lines.length, 6);
});

test("the store's password is never printed, a configured token is not shown, tokens credentials are counted", () => {
  const config = defaultConfig();
  config.gateway.auth = { mode: "token", tokens: [{ name: "a", token: "x".repeat(20), scopes: ["chat"] }] } as typeof config.gateway.auth;
  const banner = gatewayBanner({
    url: "http://127.0.0.1:1",
    config,
    single: undefined,
    window: { model: "gpt-4o", window: 128_000 },
    store: { uri: "postgres://app:s3cret@db.example:5432/openclaw", source: "config" },
  });
  const text = [...bannerLines(banner), JSON.stringify(bannerJson(banner))].join("\n");
  assert.doesNotMatch(text, /s3cret/);
  assert.match(text, /postgres:\/\/\[redacted\]@db\.example:5432\/openclaw/);
  assert.match(bannerLines(banner)[1] ?? "", /one of the 1 credentials in gateway\.auth\.tokens/);
  assert.equal(bannerJson(banner).token, undefined);
});
