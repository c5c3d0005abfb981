import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const root = new URL("../../", import.meta.url);

describe("adapters: isolated behind their subpath exports", () => {
  it("the main entry and the CLI never load the Agents SDK or LangChain; the LangChain adapter does", () => {
    const probe = fileURLToPath(new URL("./_lazy-probe.ts", import.meta.url));
    const run = spawnSync(process.execPath, ["--import", "tsx", probe], { encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
    assert.equal(run.status, 0, run.stderr);
    const seen = JSON.parse(run.stdout.trim().split("\n").pop() ?? "{}") as { library: number; cli: number; adapter: number };
    assert.equal(seen.library, 0, "importing and using the main entry");
    assert.equal(seen.cli, 0, "running CLI commands");
    assert.ok(seen.adapter > 0, "the probe sees the library once an adapter is imported");
  });

  it("package.json exports each adapter as a subpath, its libraries as optional peers", () => {
    const pkg = JSON.parse(readFileSync(new URL("package.json", root), "utf8")) as {
      exports: Record<string, { types: string; import: string }>;
      peerDependencies: Record<string, string>;
      peerDependenciesMeta: Record<string, { optional?: boolean }>;
      devDependencies: Record<string, string>;
    };
    for (const [subpath, folder] of [
      ["./agents", "agents"],
      ["./langchain", "langchain"],
    ] as const) {
      const entry = pkg.exports[subpath];
      assert.deepEqual(entry, { types: `./dist/adapters/${folder}/index.d.ts`, import: `./dist/adapters/${folder}/index.js` });
      assert.ok(existsSync(new URL(`src/adapters/${folder}/index.ts`, root)), `the build emits ${entry?.import} from src/adapters/${folder}/index.ts`);
    }
    for (const lib of ["@openai/agents-core", "@langchain/core"]) {
      assert.ok(pkg.peerDependencies[lib] !== undefined, `${lib} is a peer dependency`);
      assert.equal(pkg.peerDependenciesMeta[lib]?.optional, true, `${lib} is optional`);
      assert.equal(pkg.devDependencies[lib], pkg.peerDependencies[lib], `${lib} is tested at the range it accepts`);
    }
  });

  it("the subpaths resolve through the package name once built", { skip: !existsSync(new URL("dist/adapters/agents/index.js", root)) && "run npm run build first" }, async () => {
    const agents = (await import("openclaw-sessions/agents" as string)) as Record<string, unknown>;
    const langchain = (await import("openclaw-sessions/langchain" as string)) as Record<string, unknown>;
    assert.deepEqual(Object.keys(agents), ["OpenclawAgentsSession"]);
    assert.deepEqual(Object.keys(langchain), ["OpenclawChatMessageHistory"]);
  });
});
