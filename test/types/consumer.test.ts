import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

// The published declarations, as a project that installs the package sees them: packed with `npm pack`, unpacked
// into a fresh project, checked with skipLibCheck off under each supported compiler. Offline: the package's
// dependencies are linked from this checkout's node_modules.
const run = promisify(execFile);
const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const COMPILERS = [
  { name: "TypeScript 5.9", tsc: join(ROOT, "node_modules", "typescript", "bin", "tsc") },
  { name: "TypeScript 7", tsc: join(ROOT, "node_modules", "typescript-7", "bin", "tsc") },
];

const CONSUMER = `import { MemoryStore, OpenclawError, SessionManager, isOpenclawError, type ErrorCode, type Message, type Session, type SessionStore } from "openclaw-sessions";
import { OpenclawAgentsSession, type AdapterTarget } from "openclaw-sessions/agents";
import { OpenclawChatMessageHistory } from "openclaw-sessions/langchain";

export async function lastWords(store: SessionStore = new MemoryStore()): Promise<string | undefined> {
  const manager: SessionManager = await SessionManager.open({ store, config: {}, now: () => new Date(0) });
  try {
    const session: Session = await manager.create({ key: "dm:telegram:42" });
    const messages: readonly Message[] = (await manager.record({ ref: session.id }, { role: "user", content: "hello" })).session.messages;
    return messages.at(-1)?.content;
  } catch (err) {
    const code: ErrorCode | undefined = isOpenclawError(err) ? err.code : undefined;
    throw new OpenclawError("INVALID_ARGUMENT", \`failed (\${code ?? "unknown"})\`, { cause: err });
  } finally {
    await manager.close();
  }
}

export function adapters(manager: SessionManager, target: AdapterTarget): [OpenclawAgentsSession, OpenclawChatMessageHistory] {
  return [new OpenclawAgentsSession(manager, target), new OpenclawChatMessageHistory(manager, target, { sender: "alice" })];
}

// The types are real, not \`any\`: a misuse is an error (and an unused expectation would be one too).
// @ts-expect-error not an error code
export const wrong = new OpenclawError("NOT_A_CODE", "x");
`;

const TSCONFIG = {
  compilerOptions: {
    target: "es2022",
    module: "nodenext",
    moduleResolution: "nodenext",
    strict: true,
    skipLibCheck: false,
    noEmit: true,
  },
  files: ["index.ts"],
};

/** The packages the installed package needs: its dependencies and peers, plus Node's types, which a Node project has. */
function linked(): string[] {
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { dependencies?: Record<string, string>; peerDependencies?: Record<string, string> };
  return [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.peerDependencies ?? {}), "@types/node"];
}

describe("the published types", () => {
  let dir = "";
  let project = "";

  before(async () => {
    assert.ok(existsSync(join(ROOT, "dist", "index.d.ts")), "dist/index.d.ts is missing: run npm run build first");
    dir = await mkdtemp(join(tmpdir(), "openclaw-consumer-"));
    const packed = await run("npm", ["pack", "--json", "--ignore-scripts", "--pack-destination", dir], { cwd: ROOT, env: { ...process.env, npm_config_offline: "true" } });
    const [{ filename }] = JSON.parse(packed.stdout) as [{ filename: string }];
    project = join(dir, "consumer");
    const installed = join(project, "node_modules", "openclaw-sessions");
    await mkdir(installed, { recursive: true });
    await run("tar", ["-xzf", join(dir, filename), "-C", installed, "--strip-components=1"]);
    for (const name of linked()) {
      const from = join(ROOT, "node_modules", name);
      assert.ok(existsSync(from), `${name} is not installed in ${ROOT}`);
      await mkdir(dirname(join(project, "node_modules", name)), { recursive: true });
      await symlink(from, join(project, "node_modules", name), "dir");
    }
    await writeFile(join(project, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
    await writeFile(join(project, "tsconfig.json"), JSON.stringify(TSCONFIG, null, 2));
    await writeFile(join(project, "index.ts"), CONSUMER);
  });

  after(() => (dir === "" ? undefined : rm(dir, { recursive: true, force: true })));

  for (const { name, tsc } of COMPILERS) {
    it(`compile in a strict nodenext project without skipLibCheck under ${name}`, async () => {
      const out = await run(process.execPath, [tsc, "-p", "tsconfig.json"], { cwd: project }).then(
        (r) => r.stdout + r.stderr,
        (err: { stdout?: string; stderr?: string; message: string }) => assert.fail(`${name} rejects the published types:\n${err.stdout ?? ""}${err.stderr ?? err.message}`),
      );
      assert.equal(out.trim(), "");
    });
  }

  // TypeScript 7 loads no @types package by itself: the declarations name Buffer and NodeJS.ProcessEnv, so each entry
  // point has to bring Node's types, or they resolve only while some dependency happens to reference them.
  it("bring Node's types from each entry point", async () => {
    const { stdout } = await run(process.execPath, [COMPILERS[1]!.tsc, "-p", "tsconfig.json", "--explainFiles"], { cwd: project });
    const why = stdout.split(/\r?\n(?=\S)/).find((entry) => /@types\/node\/index\.d\.ts\r?\n/.test(entry)) ?? "";
    for (const entry of ["dist/index.d.ts", "dist/adapters/agents/index.d.ts", "dist/adapters/langchain/index.d.ts"]) {
      assert.ok(why.includes(`referenced via 'node' from file 'node_modules/openclaw-sessions/${entry}'`), `${entry} does not reference Node's types:\n${why}`);
    }
  });
});
