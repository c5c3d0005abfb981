import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { chmod, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { sandbox, type Sandbox } from "../helpers/cli-run.js";

interface AuditJson {
  stateDir: string;
  configPath: string;
  findings: Array<{ id: string; severity: "high" | "medium" | "low"; message: string; fix: string }>;
}

const POSIX = process.platform === "win32" ? "file modes are ACLs on Windows" : false;

/** A state dir with a config and a session file, at the given modes. */
async function setUp(sb: Sandbox, config: unknown, modes: { dir: number; config: number; file: number }): Promise<void> {
  await mkdir(join(sb.stateDir, "sessions"), { recursive: true });
  const file = join(sb.stateDir, "sessions", "0190a1b2-0000-7000-8000-000000000001.json");
  await writeFile(file, "{}");
  await writeFile(join(sb.stateDir, "config.json"), JSON.stringify(config));
  await chmod(file, modes.file);
  await chmod(join(sb.stateDir, "config.json"), modes.config);
  await chmod(join(sb.stateDir, "sessions"), 0o700);
  await chmod(sb.stateDir, modes.dir);
}

const strong = () => randomBytes(32).toString("hex");

test("security audit: open modes, a weak token, an exposed gateway and a plain-http upstream are findings with a fix; exit 1", { skip: POSIX }, async (t) => {
  const sb = await sandbox(t);
  await setUp(
    sb,
    { gateway: { host: "0.0.0.0", auth: { token: "short-but-16-chars-x" }, model: { baseUrl: "http://10.1.2.3:11434/v1", model: "m", apiKeyEnv: "UPSTREAM_KEY" } } },
    { dir: 0o755, config: 0o644, file: 0o644 },
  );
  const r = await sb.run(["security", "audit", "--json"]);
  assert.equal(r.code, 1, r.stderr);
  const report = JSON.parse(r.stdout) as AuditJson;
  const ids = report.findings.map((f) => f.id).sort();
  assert.deepEqual(ids, ["all-scopes-token", "config-mode", "encryption-off", "state-dir-mode", "state-files-mode", "upstream-plain-http", "weak-token"]);
  for (const f of report.findings) {
    assert.ok(["high", "medium", "low"].includes(f.severity));
    assert.ok(f.message.length > 0 && f.fix.length > 0, `${f.id} says what to change`);
  }
  const by = (id: string) => report.findings.find((f) => f.id === id);
  assert.match(by("state-dir-mode")?.fix ?? "", /chmod 700 /);
  assert.match(by("config-mode")?.fix ?? "", /chmod 600 /);
  assert.match(by("state-files-mode")?.message ?? "", /sessions\/0190a1b2-0000-7000-8000-000000000001\.json \(0644\)/);
  assert.match(by("weak-token")?.message ?? "", /gateway\.auth\.token .*20 characters/);
  assert.ok(!r.stdout.includes("short-but-16-chars-x"), "the audit never prints a token");
  assert.equal(by("upstream-plain-http")?.severity, "high", "the API key travels in clear");
  assert.equal(report.findings[0]?.severity, "high", "most severe first");

  const text = await sb.run(["security", "audit"]);
  assert.equal(text.code, 1);
  assert.match(text.stdout, /HIGH\s+weak-token: .*\n\s+fix: replace it with a random one/);
  assert.match(text.stdout, /7 findings \(\d high, \d medium, \d low\)/);
});

test("security audit: auth mode none on another interface is a high finding; with no token configured, the generated one is every client's", { skip: POSIX }, async (t) => {
  const sb = await sandbox(t);
  await setUp(sb, { gateway: { host: "192.168.1.20" } }, { dir: 0o700, config: 0o600, file: 0o600 });
  const generated = JSON.parse((await sb.run(["security", "audit", "--json"])).stdout) as AuditJson;
  assert.deepEqual(
    generated.findings.map((f) => [f.id, f.severity]),
    [
      ["all-scopes-token", "medium"],
      ["encryption-off", "medium"],
    ],
  );
  assert.match(generated.findings[0]?.message ?? "", /the generated token \(.*gateway-token\)/);
  // A generated token someone replaced by hand is judged like any other.
  await writeFile(join(sb.stateDir, "gateway-token"), "letmein-letmein\n", { mode: 0o600 });
  const edited = JSON.parse((await sb.run(["security", "audit", "--json"])).stdout) as AuditJson;
  assert.ok(
    edited.findings.some((f) => f.id === "weak-token" && f.severity === "high" && f.message.includes("gateway-token")),
    JSON.stringify(edited.findings),
  );
  assert.ok(!JSON.stringify(edited).includes("letmein-letmein"), "never shown");

  // Metrics served without a token are a (low) finding only where other machines can reach them.
  await writeFile(join(sb.stateDir, "config.json"), JSON.stringify({ gateway: { host: "192.168.1.20", metrics: { public: true } } }));
  const metrics = JSON.parse((await sb.run(["security", "audit", "--json"])).stdout) as AuditJson;
  assert.deepEqual(metrics.findings.find((f) => f.id === "metrics-public")?.severity, "low", JSON.stringify(metrics.findings));
  await writeFile(join(sb.stateDir, "config.json"), JSON.stringify({ gateway: { metrics: { public: true } } }));
  const loopback = JSON.parse((await sb.run(["security", "audit", "--json"])).stdout) as AuditJson;
  assert.ok(!loopback.findings.some((f) => f.id === "metrics-public"), "on loopback it is the operator's own scraper");

  await writeFile(join(sb.stateDir, "config.json"), JSON.stringify({ gateway: { host: "0.0.0.0", auth: { mode: "none" } }, storage: { encryption: { keyEnv: "OPENCLAW_STORE_KEY" } } }));
  const off = JSON.parse((await sb.run(["security", "audit", "--json"])).stdout) as AuditJson;
  assert.deepEqual(
    off.findings.map((f) => [f.id, f.severity]),
    [["exposed-without-token", "high"]],
  );
  assert.match(off.findings[0]?.message ?? "", /auth\.mode "none"/);
});

test("security audit: tokens named by variable are checked in the environment it runs with; scoped tokens are not one all-powerful credential", { skip: POSIX }, async (t) => {
  const sb = await sandbox(t);
  const config = {
    gateway: {
      auth: {
        tokens: [
          { name: "bot", tokenEnv: "BOT_TOKEN", scopes: ["route", "hooks"] },
          { name: "dashboard", tokenSha256: "a".repeat(64), scopes: ["admin:read", "admin:write"] },
        ],
      },
    },
  };
  await setUp(sb, config, { dir: 0o700, config: 0o600, file: 0o600 });
  const weak = await sb.run(["security", "audit", "--json"], { env: { BOT_TOKEN: "abcdefghijklmnopqrstuvwxyz0123456789" } });
  assert.equal(weak.code, 1);
  const findings = (JSON.parse(weak.stdout) as AuditJson).findings;
  assert.deepEqual(
    findings.map((f) => f.id),
    ["weak-token"],
  );
  assert.match(findings[0]?.message ?? "", /gateway\.auth\.tokens\[0\] \("bot"\) is weak: it contains a run/);
  const fine = await sb.run(["security", "audit", "--json"], { env: { BOT_TOKEN: strong() } });
  assert.equal(fine.code, 0, fine.stdout);
  assert.deepEqual((JSON.parse(fine.stdout) as AuditJson).findings, []);
});

test("security audit: once every finding is fixed it says so and exits 0", { skip: POSIX }, async (t) => {
  const sb = await sandbox(t);
  const bad = { gateway: { host: "0.0.0.0", auth: { token: "short-but-16-chars-x" }, model: { baseUrl: "http://10.1.2.3:11434/v1", model: "m" } } };
  await setUp(sb, bad, { dir: 0o750, config: 0o640, file: 0o640 });
  assert.equal((await sb.run(["security", "audit"])).code, 1);
  const fixed = {
    gateway: {
      host: "0.0.0.0",
      auth: {
        tokens: [
          { name: "app", token: strong(), scopes: ["chat"] },
          { name: "ops", token: strong(), scopes: ["admin:read", "admin:write"] },
        ],
      },
      model: { baseUrl: "https://models.example.net/v1", model: "m" },
    },
    storage: { encryption: { keyEnv: "OPENCLAW_STORE_KEY" } },
  };
  await setUp(sb, fixed, { dir: 0o700, config: 0o600, file: 0o600 });
  const r = await sb.run(["security", "audit"]);
  assert.equal(r.code, 0, r.stdout);
  assert.match(r.stdout, /no findings/);
  const json = JSON.parse((await sb.run(["security", "audit", "--json"])).stdout) as AuditJson;
  assert.deepEqual(json.findings, []);
  assert.equal(json.stateDir, sb.stateDir);
});

test("security audit: a fresh install on loopback with no config has nothing to report", { skip: POSIX }, async (t) => {
  const sb = await sandbox(t);
  const r = await sb.run(["security", "audit"]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /no findings/);
});

test("security audit: an encryption key file others can read is a high finding", { skip: POSIX }, async (t) => {
  const sb = await sandbox(t);
  const keyFile = join(sb.home, "store.key");
  await writeFile(keyFile, randomBytes(32).toString("base64"));
  await chmod(keyFile, 0o644);
  await setUp(sb, { storage: { encryption: { keyFile } } }, { dir: 0o700, config: 0o600, file: 0o600 });
  const r = await sb.run(["security", "audit", "--json"]);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  const findings = (JSON.parse(r.stdout) as AuditJson).findings;
  assert.deepEqual(
    findings.map((f) => [f.id, f.severity]),
    [["key-file-mode", "high"]],
  );
  assert.equal(findings[0]?.fix, `chmod 600 ${keyFile}`);
  await chmod(keyFile, 0o600);
  assert.equal((await sb.run(["security", "audit"])).code, 0);
});

test("security audit: one token on loopback is fine; several named tokens that all hold every scope are not", { skip: POSIX }, async (t) => {
  const sb = await sandbox(t);
  await setUp(sb, { gateway: { auth: { token: strong() } } }, { dir: 0o700, config: 0o600, file: 0o600 });
  assert.equal((await sb.run(["security", "audit"])).code, 0);
  const all = ["chat", "route", "hooks", "admin:read", "admin:write"];
  await setUp(
    sb,
    {
      gateway: {
        auth: {
          tokens: [
            { name: "bot", token: strong(), scopes: all },
            { name: "app", token: strong(), scopes: all },
          ],
        },
      },
    },
    { dir: 0o700, config: 0o600, file: 0o600 },
  );
  const r = await sb.run(["security", "audit", "--json"]);
  assert.equal(r.code, 1);
  const findings = (JSON.parse(r.stdout) as AuditJson).findings;
  assert.deepEqual(
    findings.map((f) => [f.id, f.severity]),
    [["all-scopes-token", "low"]],
  );
  assert.match(findings[0]?.message ?? "", /every token \(gateway\.auth\.tokens\[0\] \("bot"\), gateway\.auth\.tokens\[1\] \("app"\)\) holds every scope/);
});
