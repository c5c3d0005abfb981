import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { CLI_MD, reference, withReference } from "../../scripts/cli-docs.js";

describe("docs/cli.md", () => {
  it("its reference is what every command's --help prints now (node --import tsx scripts/cli-docs.ts rewrites it)", () => {
    const doc = readFileSync(CLI_MD, "utf8");
    assert.ok(doc.includes(reference()), "docs/cli.md is stale: run node --import tsx scripts/cli-docs.ts");
  });

  it("documents every command, with its examples", () => {
    const doc = readFileSync(CLI_MD, "utf8");
    for (const path of ["openclaw sessions append", "openclaw gateway token", "openclaw store rekey", "openclaw identities link"]) {
      assert.ok(doc.includes(`### \`${path}\``), `no section for ${path}`);
    }
    assert.match(doc, /Examples:\n {2}openclaw sessions append --dm telegram:42/);
  });

  it("a changed help text makes the reference stale", () => {
    const doc = readFileSync(CLI_MD, "utf8");
    const edited = doc.replace("print the version", "print the release");
    assert.notEqual(edited, doc);
    assert.equal(withReference(edited), doc);
  });
});
