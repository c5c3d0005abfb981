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
