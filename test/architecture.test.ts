import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), "..", "src");
// Static, dynamic and type-only imports alike: each ties one file to another.
const IMPORT_RE = /(?:import|export)\s+(?:type\s+)?(?:[\s\S]*?\sfrom\s+)?["'](\.{1,2}\/[^"']+)["']|import\(\s*["'](\.{1,2}\/[^"']+)["']\s*\)/g;

function sourceFiles(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) sourceFiles(p, out);
    else if (e.name.endsWith(".ts") && !e.name.endsWith(".d.ts")) out.push(p);
  }
  return out;
}

/** src-relative file → the src-relative files it imports. */
function importGraph(): Map<string, string[]> {
  const files = sourceFiles(SRC);
  const known = new Set(files);
  const graph = new Map<string, string[]>();
  for (const f of files) {
    const targets: string[] = [];
    for (const m of readFileSync(f, "utf8").matchAll(IMPORT_RE)) {
      const spec = (m[1] ?? m[2]) as string;
      const target = resolve(dirname(f), spec).replace(/\.js$/, ".ts");
      assert.ok(known.has(target), `${relative(SRC, f)} imports ${spec}, which is not a source file`);
      targets.push(relative(SRC, target));
    }
    graph.set(relative(SRC, f), targets);
  }
  return graph;
}

/** Every cycle's files, found by depth-first search. */
function cycles(graph: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, "open" | "done">();
  const path: string[] = [];
  const visit = (f: string): void => {
    state.set(f, "open");
    path.push(f);
    for (const t of graph.get(f) ?? []) {
      if (state.get(t) === "open") found.push(path.slice(path.indexOf(t)));
      else if (state.get(t) === undefined) visit(t);
    }
    path.pop();
    state.set(f, "done");
  };
  for (const f of graph.keys()) if (state.get(f) === undefined) visit(f);
  return found;
}

const layer = (file: string): string => (file.includes("/") ? (file.split("/")[0] as string) : file);

describe("architecture", () => {
  const graph = importGraph();

  it("no import cycles among src/ files, type-only imports included", () => {
    assert.deepEqual(
      cycles(graph).map((c) => c.join(" → ")),
      [],
    );
  });

  it("imports only point down the layers", () => {
    // What each layer may import besides itself; the shells on top may import anything.
    const allowed: Record<string, readonly string[]> = {
      "errors.ts": [],
      session: ["errors.ts"],
      config: ["errors.ts"],
      routing: ["errors.ts", "session"],
      model: ["errors.ts", "config", "session"],
      // The LLM summarizer talks to its model through model/.
      context: ["errors.ts", "session", "config", "model"],
      store: ["errors.ts", "session"],
      manager: ["errors.ts", "session", "config", "routing", "context", "store"],
    };
    const bad: string[] = [];
    for (const [file, targets] of graph) {
      const from = layer(file);
      const may = allowed[from];
      if (may === undefined) continue;
      for (const t of targets) if (layer(t) !== from && !may.includes(layer(t))) bad.push(`${file} → ${t}`);
    }
    assert.deepEqual(bad, []);
  });

  it("no service takes the whole SessionManager: only the shells import it", () => {
    const users = [...graph].filter(([, targets]) => targets.includes("manager/manager.ts")).map(([file]) => file);
    const shells = (f: string) => ["cli", "gateway", "adapters"].includes(layer(f)) || f === "index.ts";
    assert.deepEqual(
      users.filter((f) => !shells(f)),
      [],
    );
  });
});
