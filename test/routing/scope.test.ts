import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DM_SCOPE_NAMES } from "../../src/config/_routing.js";
import { parseConfig } from "../../src/config/load.js";
import { isOpenclawError } from "../../src/errors.js";
import { routeTarget } from "../../src/routing/route.js";
import { keyMatchesScope, keyUnderScope } from "../../src/routing/scope.js";
import { DM_SCOPES, parentKey, parseKey, peerOfKey, scopeOfKey } from "../../src/session/keys.js";

const newId = () => "id";
const links = { "person-1": ["telegram:123", "Discord:987"] };

describe("DM scope keys", () => {
  it("each scope has its documented key shape", () => {
    const at = (scope: (typeof DM_SCOPES)[number], extra = {}) => routeTarget({ channel: "Telegram", senderId: "42", ...extra }, {}, newId, scope).key;
    assert.equal(at("main"), "dm:main");
    assert.equal(at("per-peer"), "dm:peer:42");
    assert.equal(at("per-channel-peer"), "dm:telegram:42");
    assert.equal(at("per-account-channel-peer"), "dm:telegram:default:42");
    assert.equal(at("per-account-channel-peer", { accountId: "bot2" }), "dm:telegram:bot2:42");
    assert.equal(at("per-channel-peer", { accountId: "bot2" }), "dm:telegram:42", "the account only keys DMs under its scope");
    assert.equal(at("main", { threadId: "T1" }), "dm:main:thread:T1");
    assert.equal(at("per-peer", { groupId: "G" }), "group:telegram:G", "groups are not DMs");
  });

  it("linked identities share one key under every per-person scope", () => {
    const both = (scope: (typeof DM_SCOPES)[number]) => [routeTarget({ channel: "telegram", senderId: "123" }, links, newId, scope).key, routeTarget({ channel: "discord", senderId: "987" }, links, newId, scope).key];
    assert.deepEqual(both("per-peer"), ["dm:peer:person-1", "dm:peer:person-1"]);
    assert.deepEqual(both("per-channel-peer"), ["dm:linked:person-1", "dm:linked:person-1"]);
    assert.deepEqual(both("per-account-channel-peer"), ["dm:linked:default:person-1", "dm:linked:default:person-1"]);
  });

  it("keys parse back with their scope, peer and parent", () => {
    assert.deepEqual(parseKey("dm:main"), { kind: "dm", channel: "main", subject: "main", thread: null });
    assert.deepEqual(parseKey("dm:telegram:bot:42:thread:T"), { kind: "dm", channel: "telegram", subject: "42", thread: "T", account: "bot" });
    assert.equal(scopeOfKey(parseKey("dm:main:thread:T")), "main");
    assert.equal(scopeOfKey(parseKey("dm:peer:42")), "per-peer");
    assert.equal(scopeOfKey(parseKey("dm:linked:p")), "per-channel-peer");
    assert.equal(scopeOfKey(parseKey("dm:linked:bot:p")), "per-account-channel-peer");
    assert.equal(scopeOfKey(parseKey("group:slack:C1")), undefined);
    assert.equal(peerOfKey(parseKey("dm:main")), null);
    assert.equal(peerOfKey(parseKey("dm:telegram:bot:42")), "42");
    assert.equal(parentKey("dm:telegram:bot:42:thread:T"), "dm:telegram:bot:42");
    assert.equal(parentKey("group:slack:C1"), null);
  });

  for (const bad of ["dm:main:x", "dm:peer:a:b", "group:slack:bot:C1", "dm:telegram", "dm:tg:thread:42", "dm:main:thread"]) {
    it(`refuses the malformed key ${bad}`, () => {
      assert.throws(
        () => parseKey(bad),
        (e) => isOpenclawError(e, "INVALID_KEY"),
      );
    });
  }

  it("a key is checked against the scope and the links", () => {
    assert.equal(keyMatchesScope("dm:telegram:42", "per-channel-peer", {}), true);
    assert.equal(keyMatchesScope("dm:telegram:42", "per-peer", {}), false);
    assert.equal(keyMatchesScope("dm:telegram:123", "per-channel-peer", links), false, "a newly linked identity's key is off");
    assert.equal(keyMatchesScope("dm:linked:gone", "per-channel-peer", links), false, "an unlinked person's key is off");
    assert.equal(keyMatchesScope("group:slack:C1", "main", {}), true);
    assert.equal(keyMatchesScope("dm:main:thread:T", "main", {}), true);
  });

  it("a key is carried to another scope as far as it and the origin say", () => {
    assert.equal(keyUnderScope("dm:telegram:42:thread:T", "per-peer", {}), "dm:peer:42:thread:T");
    assert.equal(keyUnderScope("dm:telegram:123", "per-peer", links), "dm:peer:person-1");
    assert.equal(keyUnderScope("dm:peer:42", "per-channel-peer", {}), null, "no channel without an origin");
    assert.equal(keyUnderScope("dm:peer:42", "per-channel-peer", {}, { channel: "slack" }), "dm:slack:42");
    assert.equal(keyUnderScope("dm:main", "per-peer", {}, { channel: "slack" }), null);
    assert.equal(keyUnderScope("dm:slack:bot:42", "per-channel-peer", {}), "dm:slack:42");
    assert.equal(keyUnderScope("dm:slack:42", "per-account-channel-peer", {}, { channel: "slack", account: "bot" }), "dm:slack:bot:42");
  });
});

describe("config: DM scope and identity links", () => {
  const errorOf = (text: string): string => {
    try {
      parseConfig(text, "/state/config.json");
    } catch (err) {
      assert.ok(isOpenclawError(err, "CONFIG_INVALID"));
      return err.message;
    }
    assert.fail("expected an error");
  };

  it("the config's scope names are routing's", () => {
    assert.deepEqual([...DM_SCOPE_NAMES], [...DM_SCOPES]);
  });

  it("an unknown scope is one line naming the scopes", () => {
    assert.equal(errorOf('{"sessions": {"dmScope": "per-user"}}'), 'config.json: sessions.dmScope: expected one of "per-channel-peer", "main", "per-peer", "per-account-channel-peer", got "per-user"');
  });

  it("an identity linked to two people is refused, naming both", () => {
    assert.equal(
      errorOf('{"sessions": {"identityLinks": {"alice": ["telegram:42"], "bob": ["slack:U1", "Telegram:42"]}}}'),
      'config.json: sessions.identityLinks.bob.1: Telegram:42 is already linked to alice: an identity belongs to one person, got "Telegram:42"',
    );
  });

  it("a person id that cannot be a key segment is refused", () => {
    assert.match(errorOf('{"sessions": {"identityLinks": {"al ice": ["telegram:42"]}}}'), /^config\.json: sessions\.identityLinks\.al ice: expected a person id/);
  });
});
