import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decideTool, editPolicy, isToolAllowed, matchesPattern } from "../../src/session/tools.js";

describe("tool permissions", () => {
  it("fs.* matches every fs tool and nothing else", () => {
    assert.ok(matchesPattern("fs.*", "fs.read"));
    assert.ok(matchesPattern("fs.*", "fs.write.append"));
    assert.ok(!matchesPattern("fs.*", "fsx.read"));
    assert.ok(!matchesPattern("fs.*", "web.fs.read"));
  });

  it("* allows any tool", () => {
    assert.ok(isToolAllowed({ allow: ["*"], deny: [] }, "web_search"));
  });

  it("deny wins over allow", () => {
    const policy = { allow: ["*", "fs.read"], deny: ["fs.*"] };
    assert.equal(isToolAllowed(policy, "fs.read"), false);
    assert.deepEqual(decideTool(policy, "fs.read"), { allowed: false, pattern: "fs.*" });
    assert.equal(isToolAllowed(policy, "web_search"), true);
  });

  it("a tool no pattern allows is denied", () => {
    assert.deepEqual(decideTool({ allow: ["web.*"], deny: [] }, "shell"), { allowed: false, pattern: null });
  });

  it("pattern characters other than * are literal", () => {
    assert.ok(!matchesPattern("a.b", "axb"));
    assert.ok(matchesPattern("a+b", "a+b"));
  });

  it("allowing a denied pattern moves it, so the latest edit counts", () => {
    const p = editPolicy({ allow: ["*"], deny: ["shell"] }, { allow: ["shell"] });
    assert.deepEqual(p, { allow: ["*", "shell"], deny: [] });
    assert.deepEqual(editPolicy(p, { deny: ["*"] }), { allow: ["shell"], deny: ["*"] });
  });
});
