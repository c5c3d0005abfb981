import assert from "node:assert/strict";
import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parseConfig } from "../../src/config/load.js";
import { isOpenclawError } from "../../src/errors.js";
import { buildAuth } from "../../src/gateway/_auth.js";
import { singleToken } from "../../src/gateway/token-file.js";

function errorOf(auth: unknown): string {
  try {
    parseConfig(JSON.stringify({ gateway: { auth } }), "/state/config.json");
  } catch (err) {
    assert.ok(isOpenclawError(err, "CONFIG_INVALID"), String(err));
    return err.message;
  }
  assert.fail("expected an error");
}

const ok = (auth: unknown) => parseConfig(JSON.stringify({ gateway: { auth } }), "/state/config.json").config.gateway.auth;

describe("gateway.auth in config.json", () => {
  it("refuses credentials it could not use, naming the entry and what to change", () => {
    const long = "x".repeat(20);
    assert.match(
      errorOf({
        tokens: [
          { name: "a", token: long, scopes: ["chat"] },
          { name: "a", token: "y".repeat(20), scopes: ["chat"] },
        ],
      }),
      /gateway\.auth\.tokens\.1\.name: duplicate credential name "a"/,
    );
    assert.match(errorOf({ tokens: [{ name: "a", token: long, scopes: ["chat", "superuser"] }] }), /gateway\.auth\.tokens\.0\.scopes\.1: unknown scope: use chat, route, hooks, admin:read, admin:write/);
    assert.match(errorOf({ tokens: [{ name: "a", token: "short", scopes: ["chat"] }] }), /gateway\.auth\.tokens\.0\.token: expected a token of at least 16 characters/);
    assert.match(errorOf({ tokens: [{ name: "a", scopes: ["chat"] }] }), /credential "a" needs exactly one of token, tokenSha256 or tokenEnv/);
    const both = errorOf({ tokens: [{ name: "a", token: long, tokenEnv: "A_TOKEN", scopes: ["chat"] }] });
    assert.match(both, /needs exactly one of/);
    assert.doesNotMatch(both, new RegExp(long), "the error never shows the token");
    assert.match(errorOf({ tokens: [{ name: "a", tokenSha256: "abc", scopes: ["chat"] }] }), /tokenSha256: expected 64 hex digits/);
    assert.match(errorOf({ tokens: [{ name: "default", token: long, scopes: ["chat"] }] }), /"default" is reserved/);
    assert.match(errorOf({ tokens: [{ name: "a b", token: long, scopes: ["chat"] }] }), /name: expected a name of 1-64 characters/);
    assert.match(errorOf({ tokens: [{ name: "a", token: long, scopes: [] }] }), /scopes: expected an array of scopes/);
    assert.match(errorOf({ mode: "open" }), /gateway\.auth\.mode: expected "token" or "none"/);
  });

  it("defaults to token mode, and checks tokenEnv and shared tokens when the gateway starts", () => {
    assert.equal(ok({}).mode, "token");
    assert.throws(() => buildAuth(ok({}), undefined, {}), /no gateway credential/);
    const envAuth = ok({ tokens: [{ name: "bot", tokenEnv: "BOT_TOKEN", scopes: ["route"] }] });
    assert.throws(() => buildAuth(envAuth, undefined, {}), /gateway\.auth\.tokens\.0 \("bot"\): environment variable BOT_TOKEN is not set/);
    assert.throws(() => buildAuth(envAuth, undefined, { BOT_TOKEN: "short" }), /BOT_TOKEN is too short/);
    assert.equal(buildAuth(envAuth, undefined, { BOT_TOKEN: "b".repeat(16) }).entries[0]?.credential.name, "bot");
    const twin = ok({ tokens: [{ name: "bot", token: "c".repeat(16), scopes: ["route"] }] });
    assert.throws(() => buildAuth(twin, "c".repeat(16), {}), /same token as "default"/);
    assert.equal(buildAuth(ok({ mode: "none" }), undefined, {}).mode, "none");
  });

  it("first starts racing on one state dir agree on one generated token, and only one says it made it", async () => {
    const dir = await mkdtemp(join(tmpdir(), "oc-token-"));
    try {
      const auth = ok({});
      const all = await Promise.all(Array.from({ length: 8 }, () => singleToken(auth, dir, { create: true, env: {} })));
      assert.equal(new Set(all.map((t) => t?.token)).size, 1);
      assert.equal(all.filter((t) => t?.created).length, 1);
      assert.equal((await stat(join(dir, "gateway-token"))).mode & 0o777, 0o600);
      assert.deepEqual(await readdir(dir), ["gateway-token"], "no temporary file left behind");
      assert.equal(await singleToken(auth, dir, { create: true, env: { OPENCLAW_GATEWAY_TOKEN: "e".repeat(16) } }).then((t) => t?.source), "env");
      assert.equal(await singleToken(ok({ mode: "none" }), dir, { create: true, env: {} }), undefined);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
