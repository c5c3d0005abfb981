import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isOpenclawError } from "../../src/errors.js";
import { routeTarget } from "../../src/routing/route.js";

let n = 0;
const newId = () => `id${++n}`;

describe("routing targets", () => {
  it("two users on one channel get two DM keys", () => {
    assert.equal(routeTarget({ channel: "telegram", senderId: "1" }, {}, newId).key, "dm:telegram:1");
    assert.equal(routeTarget({ channel: "telegram", senderId: "2" }, {}, newId).key, "dm:telegram:2");
  });

  it("the same user on two channels gets two keys unless linked", () => {
    assert.notEqual(routeTarget({ channel: "telegram", senderId: "123" }, {}, newId).key, routeTarget({ channel: "discord", senderId: "987" }, {}, newId).key);
    const links = { "person-1": ["telegram:123", "discord:987"] };
    const a = routeTarget({ channel: "telegram", senderId: "123" }, links, newId);
    const b = routeTarget({ channel: "discord", senderId: "987" }, links, newId);
    assert.equal(a.key, b.key);
    assert.equal(a.key, "dm:linked:person-1");
    assert.equal(routeTarget({ channel: "slack", senderId: "123" }, links, newId).key, "dm:slack:123", "linking is per identity, not per user id");
  });

  it("a group message routes to the group, whoever sends it", () => {
    const a = routeTarget({ channel: "slack", senderId: "U1", groupId: "C9" }, {}, newId);
    const b = routeTarget({ channel: "slack", senderId: "U2", groupId: "C9" }, {}, newId);
    assert.equal(a.key, "group:slack:C9");
    assert.equal(a.key, b.key);
    assert.equal(a.kind, "group");
  });

  it("a thread gets its own key under its parent", () => {
    assert.equal(routeTarget({ channel: "slack", senderId: "U1", groupId: "C9", threadId: "T1" }, {}, newId).key, "group:slack:C9:thread:T1");
    assert.equal(routeTarget({ channel: "slack", senderId: "U1", threadId: "T1" }, {}, newId).key, "dm:slack:U1:thread:T1");
  });

  it("isolated targets are always new and never collide", () => {
    const a = routeTarget({ channel: "cli", senderId: "op", isolated: "research" }, {}, newId);
    const b = routeTarget({ channel: "cli", senderId: "op", isolated: "research" }, {}, newId);
    assert.ok(a.alwaysNew);
    assert.notEqual(a.key, b.key);
    assert.match(a.key, /^isolated:research:/);
  });

  it("hostile channel or sender ids are refused", () => {
    assert.throws(
      () => routeTarget({ channel: "../x", senderId: "1" }, {}, newId),
      (e) => isOpenclawError(e, "INVALID_KEY"),
    );
    // Chat platforms' ids may hold ':' '/' '!' '#' '~' (escaped in keys); spaces, control characters and over-long ids may not.
    for (const senderId of ["a b", "a\u0000b", "a\nb", "x".repeat(129), ""]) {
      assert.throws(
        () => routeTarget({ channel: "t", senderId }, {}, newId),
        (e) => isOpenclawError(e, "INVALID_KEY"),
        JSON.stringify(senderId),
      );
    }
    assert.throws(
      () => routeTarget({ channel: "a:b", senderId: "1" }, {}, newId),
      (e) => isOpenclawError(e, "INVALID_KEY"),
      "a channel keeps the narrow alphabet",
    );
  });
});
