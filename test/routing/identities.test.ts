import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isOpenclawError } from "../../src/errors.js";
import { identityOf, linkIdentities, ownerOf, unlinkIdentities } from "../../src/routing/identities.js";

describe("identity link edits", () => {
  it("links identities to a new or existing person, channels lower-cased, repeats left alone", () => {
    const a = linkIdentities({}, "alice", ["Telegram:42", "slack:U1"]);
    assert.deepEqual(a, { links: { alice: ["telegram:42", "slack:U1"] }, added: ["telegram:42", "slack:U1"] });
    const b = linkIdentities(a.links, "alice", ["telegram:42", "discord:7"]);
    assert.deepEqual(b.added, ["discord:7"]);
    assert.equal(ownerOf(b.links, "TELEGRAM:42"), "alice");
    assert.equal(ownerOf(b.links, "telegram:43"), undefined);
  });

  it("refuses an identity of another person, a malformed identity and a bad person id", () => {
    const links = { alice: ["telegram:42"] };
    assert.throws(
      () => linkIdentities(links, "bob", ["slack:U2", "telegram:42"]),
      (e) => isOpenclawError(e, "ALREADY_EXISTS") && /telegram:42 is already linked to alice/.test(e.message),
    );
    assert.throws(
      () => identityOf("telegram"),
      (e) => isOpenclawError(e, "INVALID_ARGUMENT"),
    );
    assert.throws(
      () => identityOf("telegram:a b"),
      (e) => isOpenclawError(e, "INVALID_KEY"),
    );
    assert.throws(
      () => linkIdentities(links, "b o b", ["slack:U2"]),
      (e) => isOpenclawError(e, "INVALID_KEY"),
    );
  });

  it("unlinks an identity, drops a person left with none, and refuses what is not linked", () => {
    const links = { alice: ["telegram:42", "slack:U1"], bob: ["discord:9"] };
    const r = unlinkIdentities(links, ["Telegram:42", "bob"]);
    assert.deepEqual(r.links, { alice: ["slack:U1"] });
    assert.deepEqual(r.removed, [
      { person: "alice", identity: "telegram:42" },
      { person: "bob", identity: "discord:9" },
    ]);
    assert.deepEqual(unlinkIdentities(r.links, ["slack:U1"]).links, {});
    assert.throws(
      () => unlinkIdentities(links, ["slack:nobody"]),
      (e) => isOpenclawError(e, "NOT_FOUND"),
    );
    assert.throws(
      () => unlinkIdentities(links, ["carol"]),
      (e) => isOpenclawError(e, "NOT_FOUND"),
    );
  });
});
