import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseConfig } from "../../src/config/load.js";
import { isOpenclawError } from "../../src/errors.js";

function errorOf(text: string): string {
  try {
    parseConfig(text, "/state/config.json");
  } catch (err) {
    assert.ok(isOpenclawError(err, "CONFIG_INVALID"));
    return err.message;
  }
  assert.fail("expected an error");
}

describe("config: context.toolResults", () => {
  it("has defaults, takes each key, and warns about a misspelt one", () => {
    assert.deepEqual(parseConfig("{}", "/x/config.json").config.context.toolResults, { keepTurns: 3, softTrimChars: 4000, hardClear: false });
    const r = parseConfig('{"context": {"toolResults": {"keepTurns": 1, "softTrimChars": 0, "hardClear": true, "keepTurn": 2}}}', "/x/config.json");
    assert.deepEqual(r.config.context.toolResults, { keepTurns: 1, softTrimChars: 0, hardClear: true });
    assert.deepEqual(r.warnings, ["config.json: unknown key context.toolResults.keepTurn is ignored; did you mean context.toolResults.keepTurns?"]);
  });

  it("a wrong value is one line naming the key", () => {
    assert.equal(errorOf('{"context": {"toolResults": {"keepTurns": -1}}}'), "config.json: context.toolResults.keepTurns: expected an integer ≥ 0, got -1");
    assert.equal(errorOf('{"context": {"toolResults": {"softTrimChars": "4k"}}}'), 'config.json: context.toolResults.softTrimChars: expected an integer ≥ 0, got "4k"');
    assert.equal(errorOf('{"context": {"toolResults": {"hardClear": "yes"}}}'), 'config.json: context.toolResults.hardClear: expected true or false, got "yes"');
    assert.equal(errorOf('{"context": {"toolResults": 3}}'), 'config.json: context.toolResults: expected {"keepTurns": n, "softTrimChars": n, "hardClear": true|false}, got 3');
  });
});

describe("config: sessions.maintenance", () => {
  it("is off by default, takes durations as text or milliseconds, and null", () => {
    assert.deepEqual(parseConfig("{}", "/x/config.json").config.sessions.maintenance, { deleteArchivedAfter: null, deleteExpiredAfter: null, maxSessions: null, intervalMs: 3_600_000 });
    const r = parseConfig('{"sessions": {"maintenance": {"deleteArchivedAfter": "30d", "deleteExpiredAfter": 3600000, "maxSessions": 500, "intervalMs": 60000}}}', "/x/config.json");
    assert.deepEqual(r.config.sessions.maintenance, { deleteArchivedAfter: 30 * 86_400_000, deleteExpiredAfter: 3_600_000, maxSessions: 500, intervalMs: 60_000 });
    assert.equal(parseConfig('{"sessions": {"maintenance": {"deleteExpiredAfter": "12h"}}}', "/x/config.json").config.sessions.maintenance.deleteExpiredAfter, 12 * 3_600_000);
  });

  it("a wrong value is one line naming the key", () => {
    const age = 'expected a duration such as "30d", "12h" or "90m", milliseconds as an integer ≥ 0, or null (never)';
    assert.equal(errorOf('{"sessions": {"maintenance": {"deleteArchivedAfter": "30 days"}}}'), `config.json: sessions.maintenance.deleteArchivedAfter: ${age}, got "30 days"`);
    assert.equal(errorOf('{"sessions": {"maintenance": {"deleteExpiredAfter": -1}}}'), `config.json: sessions.maintenance.deleteExpiredAfter: ${age}, got -1`);
    assert.equal(errorOf('{"sessions": {"maintenance": {"maxSessions": 0}}}'), "config.json: sessions.maintenance.maxSessions: expected an integer ≥ 1, got 0");
    assert.equal(errorOf('{"sessions": {"maintenance": {"intervalMs": 10}}}'), "config.json: sessions.maintenance.intervalMs: expected an integer ≥ 1000, got 10");
  });
});
