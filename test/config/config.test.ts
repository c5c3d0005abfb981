import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { loadConfig, locateConfig, parseConfig } from "../../src/config/load.js";
import { isOpenclawError } from "../../src/errors.js";

function errorOf(text: string, label = "/state/config.json"): string {
  try {
    parseConfig(text, label);
  } catch (err) {
    assert.ok(isOpenclawError(err));
    return err.message;
  }
  assert.fail("expected an error");
}

describe("config.json", () => {
  it("missing file means the seed's defaults", () => {
    const dir = mkdtempSync(join(tmpdir(), "oc-cfg-"));
    const loaded = loadConfig(join(dir, "config.json"));
    assert.equal(loaded.fileExists, false);
    assert.equal(loaded.config.sessions.maxHistoryLength, 100);
    assert.equal(loaded.config.sessions.expirationMs, 86_400_000);
    assert.equal(loaded.config.sessions.contextWindow, "auto");
    assert.equal(loaded.config.sessions.summarizer.type, "extractive");
  });

  it("an invalid value names the key path, what was expected and what was found", () => {
    assert.equal(errorOf('{"sessions": {"maxHistoryLength": "abc"}}'), 'config.json: sessions.maxHistoryLength: expected an integer ≥ 1, got "abc"');
    assert.equal(errorOf('{"sessions": {"maxHistoryLength": 0}}'), "config.json: sessions.maxHistoryLength: expected an integer ≥ 1, got 0");
    assert.equal(errorOf('{"sessions": {"expirationMs": -5}}'), "config.json: sessions.expirationMs: expected an integer ≥ 0, got -5");
    assert.equal(errorOf('{"sessions": {"contextWindow": 100}}'), 'config.json: sessions.contextWindow: expected "auto" or an integer ≥ 1024, got 100');
    assert.match(errorOf('{"sessions": {"summarizer": {"type": "magic"}}}'), /^config\.json: sessions\.summarizer\.type: expected \{"type": "extractive"\}/);
  });

  it("the model windows, the client system prompt policy and carry-over are checked with one-line errors", () => {
    assert.equal(errorOf('{"gateway": {"clientSystemPrompt": "drop"}}'), 'config.json: gateway.clientSystemPrompt: expected "apply", "store", "ignore" or "refuse", got "drop"');
    assert.equal(errorOf('{"models": {"llama3.1:8b": {"contextWindow": 10}}}'), "config.json: models.llama3.1:8b.contextWindow: expected an integer ≥ 256, got 10");
    assert.equal(errorOf('{"models": {"m": {"contextWindow": 8192, "maxOutputTokens": 0}}}'), "config.json: models.m.maxOutputTokens: expected an integer ≥ 1, got 0");
    assert.match(errorOf('{"models": {"": {"contextWindow": 8192}}}'), /^config\.json: models\.?: expected a non-empty model name, got ""$/);
    assert.equal(errorOf('{"sessions": {"carryOver": {"summary": "yes"}}}'), 'config.json: sessions.carryOver: expected true, false or { settings, summary }, got {"summary":"yes"}');
    const ok = parseConfig('{"models": {"llama3.1:8b": {"contextWindow": 8192, "maxOutputTokens": 1024}}, "gateway": {"clientSystemPrompt": "store"}}', "/state/config.json");
    assert.deepEqual(ok.config.models["llama3.1:8b"], { contextWindow: 8192, maxOutputTokens: 1024 });
    assert.equal(ok.config.gateway.clientSystemPrompt, "store");
    assert.equal(parseConfig("{}", "/state/config.json").config.gateway.clientSystemPrompt, "apply");
  });

  it("malformed JSON reports line and column", () => {
    assert.equal(errorOf('{\n  "sessions": {\n    "maxHistoryLength": 10,\n  }\n}'), 'config.json: malformed JSON at line 4, column 3: expected a double-quoted property name, found "}"');
    assert.match(errorOf('{"sessions": '), /^config\.json: malformed JSON at line 1, column 14: /);
  });

  it("an unknown key is a warning that names it, not an error", () => {
    const r = parseConfig('{"sessions": {"maxHistoryLenght": 5}, "extra": true}', "/x/config.json");
    assert.deepEqual(r.warnings, ["config.json: unknown key sessions.maxHistoryLenght is ignored; did you mean sessions.maxHistoryLength?", "config.json: unknown key extra is ignored"]);
    assert.equal(r.config.sessions.maxHistoryLength, 100);
  });

  it("remembers which values came from the file", () => {
    const r = parseConfig('{"sessions": {"maxHistoryLength": 5, "tools": {"group": {"deny": ["fs.*"]}}}}', "/x/config.json");
    assert.deepEqual([...r.fromFile].sort(), ["sessions.maxHistoryLength", "sessions.tools.group.deny"]);
    assert.deepEqual(r.config.sessions.tools.group, { allow: ["*"], deny: ["fs.*"] });
  });

  it("a file under another name is named by its path", () => {
    assert.match(errorOf('{"storage": {"lockTimeoutMs": 1}}', "/etc/oc/custom.json"), /^\/etc\/oc\/custom\.json: storage\.lockTimeoutMs: expected an integer ≥ 100, got 1$/);
  });

  it("--state-dir beats OPENCLAW_STATE_DIR beats ~/.openclaw; --config beats OPENCLAW_CONFIG_PATH", () => {
    const env = { OPENCLAW_STATE_DIR: "/env/state", OPENCLAW_CONFIG_PATH: "/env/cfg.json" };
    assert.deepEqual(locateConfig({ stateDir: "/flag/state" }, env).stateDir, "/flag/state");
    assert.equal(locateConfig({}, env).stateDir, "/env/state");
    assert.match(locateConfig({}, {}).stateDir, /\.openclaw$/);
    assert.equal(locateConfig({}, env).configPath, "/env/cfg.json");
    assert.equal(locateConfig({ config: "/flag/c.json" }, env).configPath, "/flag/c.json");
    assert.equal(locateConfig({ stateDir: "/s" }, {}).configPath, "/s/config.json");
  });

  it("a config file that is valid JSON but not an object is refused", () => {
    const dir = mkdtempSync(join(tmpdir(), "oc-cfg-"));
    writeFileSync(join(dir, "config.json"), "[1, 2]");
    assert.throws(
      () => loadConfig(join(dir, "config.json")),
      (e) => isOpenclawError(e, "CONFIG_INVALID") && /top level/.test(e.message),
    );
  });
});

describe("default config", () => {
  it("an empty config.json gives the defaults with a warning that says so; {} gives them silently", () => {
    for (const text of ["", "  \n"]) {
      const empty = parseConfig(text, "/state/config.json");
      assert.deepEqual(empty.warnings, ["config.json: the file is empty, so every setting has its default (write {} to say so on purpose)"]);
    }
    assert.deepEqual(parseConfig("{}", "/state/config.json").warnings, []);
  });

  it("the zod-free defaults equal what the schema gives for an empty file", async () => {
    const { defaultConfig } = await import("../../src/config/defaults.js");
    const { configSchema } = await import("../../src/config/schema.js");
    assert.deepEqual(defaultConfig(), configSchema.parse({}));
  });
});

describe("config.json: reset policies and in-chat commands", () => {
  it("a wrong time zone, an unknown mode or hour is a one-line error naming the key", () => {
    assert.equal(
      errorOf('{"sessions": {"reset": {"mode": "daily", "timezone": "Mars/Olympus"}}}'),
      'config.json: sessions.reset.timezone: unknown time zone "Mars/Olympus": expected an IANA time zone such as Europe/Berlin or America/New_York, got "Mars/Olympus"',
    );
    assert.equal(errorOf('{"sessions": {"reset": {"mode": "weekly"}}}'), 'config.json: sessions.reset.mode: expected "daily", "idle" or "never", got "weekly"');
    assert.equal(errorOf('{"sessions": {"resetByKind": {"group": {"atHour": 24}}}}'), "config.json: sessions.resetByKind.group.atHour: expected an hour from 0 to 23, got 24");
    assert.equal(errorOf('{"sessions": {"resetByChannel": {"discord": {"idleMinutes": 0}}}}'), "config.json: sessions.resetByChannel.discord.idleMinutes: expected an integer ≥ 1, got 0");
    assert.equal(errorOf('{"sessions": {"commands": {"status": "no"}}}'), 'config.json: sessions.commands.status: expected true or false, got "no"');
    assert.equal(errorOf('{"sessions": {"commands": {"groupSenders": "admins"}}}'), 'config.json: sessions.commands.groupSenders: expected "*" or an array of sender ids, got "admins"');
  });

  it("valid policies load; commands are on by default", () => {
    const r = parseConfig(
      '{"sessions": {"reset": {"mode": "daily", "atHour": 5, "timezone": "Europe/Berlin", "idleMinutes": 120}, "resetByKind": {"thread": {"mode": "never"}}, "resetByChannel": {"discord": {"mode": "idle", "idleMinutes": 60}}}}',
      "/x/config.json",
    );
    assert.deepEqual(r.warnings, []);
    assert.deepEqual(r.config.sessions.reset, { mode: "daily", atHour: 5, timezone: "Europe/Berlin", idleMinutes: 120 });
    assert.deepEqual(r.config.sessions.resetByChannel, { discord: { mode: "idle", idleMinutes: 60 } });
    assert.deepEqual(r.config.sessions.commands, { enabled: true, new: true, reset: true, compact: true, status: true, groupSenders: "*" });
  });
});
