import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { test } from "node:test";
import { CLI, errorLine, runCli, sandbox } from "../helpers/cli-run.js";
import { startGatewayProcess } from "../helpers/gateway-process.js";

// OPENCLAW_GATEWAY_TOKEN set to "" counts as unset: the gateway has no token configured.
const NO_TOKEN = { env: { OPENCLAW_GATEWAY_TOKEN: "" } };

test("with no token configured the gateway generates one on first start: 0600, printed once, shown by `gateway token`, required", async () => {
  const keep = await mkdtemp(join(tmpdir(), "openclaw-gwtoken-"));
  const stateDir = join(keep, "state");
  try {
    const gw = await startGatewayProcess({}, { ...NO_TOKEN, stateDir });
    let token: string;
    try {
      assert.equal(typeof gw.first.token, "string", JSON.stringify(gw.first));
      token = gw.first.token as string;
      assert.ok(token.length >= 32);
      assert.equal(gw.first.auth, "token");
      assert.equal(gw.first.dashboard, `${gw.url}/`);
      const file = join(stateDir, "gateway-token");
      assert.equal(gw.first.tokenFile, file);
      assert.equal((await stat(file)).mode & 0o777, 0o600);
      assert.equal((await readFile(file, "utf8")).trim(), token);

      const shown = await runCli(["--state-dir", stateDir, "gateway", "token"], gw.home);
      assert.equal(shown.code, 0, shown.stderr);
      assert.equal(shown.stdout.trim(), token);
      const json = JSON.parse((await runCli(["--state-dir", stateDir, "gateway", "token", "--json"], gw.home)).stdout) as Record<string, unknown>;
      assert.equal(json.token, token);
      assert.equal(json.source, "file");

      assert.equal((await fetch(`${gw.url}/admin/status`)).status, 401, "no token, no entry");
      assert.equal((await fetch(`${gw.url}/v1/models`, { headers: { authorization: "Bearer ocg_wrong-wrong-wrong-wrong" } })).status, 401);
      assert.equal((await fetch(`${gw.url}/admin/status`, { headers: { authorization: `Bearer ${token}` } })).status, 200);
      assert.doesNotMatch(gw.stderr(), new RegExp(token), "never in the log");
    } finally {
      await gw.stop();
    }
    // The next start keeps the token and does not print it again.
    const again = await startGatewayProcess({}, { ...NO_TOKEN, stateDir });
    try {
      assert.equal(again.first.token, undefined, "printed once");
      assert.equal((await fetch(`${again.url}/v1/models`, { headers: { authorization: `Bearer ${token}` } })).status, 200);
    } finally {
      await again.stop();
    }
  } finally {
    await rm(keep, { recursive: true, force: true });
  }
});

test("without --json the generated token is printed with a dashboard link that signs in", async (t) => {
  const sb = await sandbox(t);
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith("OPENCLAW_")) env[k] = v;
  const child = spawn(process.execPath, [CLI, "--state-dir", sb.stateDir, "gateway", "--port", "0"], { env: { ...env, HOME: sb.home, NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"] });
  t.after(() => child.kill("SIGKILL"));
  const lines: string[] = [];
  const reader = createInterface({ input: child.stdout });
  for await (const line of reader) {
    lines.push(line);
    if (line.startsWith("dashboard:")) break;
  }
  const token = (await readFile(join(sb.stateDir, "gateway-token"), "utf8")).trim();
  assert.match(lines[0] ?? "", /^listening on http:\/\/127\.0\.0\.1:\d+$/);
  assert.ok(
    lines.some((l) => l.trim() === token),
    lines.join("\n"),
  );
  assert.match(lines.at(-1) ?? "", new RegExp(`^dashboard: http://127\\.0\\.0\\.1:\\d+/#token=${token}$`));
});

test("auth mode none is for loopback only: it refuses another address and takes no token on loopback", async (t) => {
  const sb = await sandbox(t);
  const { mkdir, writeFile } = await import("node:fs/promises");
  await mkdir(sb.stateDir, { recursive: true });
  await writeFile(join(sb.stateDir, "config.json"), JSON.stringify({ gateway: { auth: { mode: "none" } } }));
  const r = await sb.run(["gateway", "--host", "0.0.0.0", "--port", "0"]);
  assert.equal(r.code, 1);
  assert.match(errorLine(r), /refusing to listen on 0\.0\.0\.0 without a token: gateway\.auth\.mode "none" is for loopback only/);
  const gw = await startGatewayProcess({ gateway: { auth: { mode: "none" } } }, NO_TOKEN);
  try {
    assert.equal(gw.first.auth, "none");
    assert.equal((await fetch(`${gw.url}/admin/status`)).status, 200);
    await assert.rejects(stat(join(gw.stateDir, "gateway-token")), "no token file in mode none");
  } finally {
    await gw.stop();
  }
});

test("`gateway --help` states who may name which session, and the scopes", async (t) => {
  const sb = await sandbox(t);
  const help = (await sb.run(["gateway", "--help"])).stdout;
  for (const line of [/chat +\/v1 statelessly and on the conversations and responses it created/, /route +\/v1 naming any session/, /Only route names a user's session/, /openclaw gateway token/]) {
    assert.match(help, line);
  }
});
