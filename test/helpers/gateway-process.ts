import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { CLI } from "./cli-run.js";

/** A gateway running as a subprocess, exactly as an operator starts it. */
export interface GatewayProcess {
  url: string;
  token: string;
  /** The first stdout line (`--json`), as parsed. */
  first: Record<string, unknown>;
  stateDir: string;
  home: string;
  child: ChildProcess;
  /** Everything the process wrote to stderr so far. */
  stderr(): string;
  /** Sends SIGTERM and waits for the exit code. */
  stop(): Promise<number | null>;
}

/** The token tests use. */
export const TEST_TOKEN = "test-token-0123456789abcdef";

/** Starts `openclaw gateway --port 0 --json` on a fresh state dir with `config`; resolves once it is listening. `nodeArgs` go to node before the CLI (e.g. `--import`). */
export async function startGatewayProcess(config: unknown, options: { env?: Record<string, string>; args?: string[]; stateDir?: string; nodeArgs?: string[] } = {}): Promise<GatewayProcess> {
  const home = await mkdtemp(join(tmpdir(), "openclaw-gw-"));
  const stateDir = options.stateDir ?? join(home, "state");
  await mkdir(stateDir, { recursive: true });
  await writeFile(join(stateDir, "config.json"), JSON.stringify(config));
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith("OPENCLAW_")) env[k] = v;
  Object.assign(env, { HOME: home, NO_COLOR: "1", OPENCLAW_GATEWAY_TOKEN: TEST_TOKEN }, options.env ?? {});
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), CLI, "--state-dir", stateDir, "gateway", "--port", "0", "--json", ...(options.args ?? [])], { env, stdio: ["ignore", "pipe", "pipe"] });
  let err = "";
  let first: Record<string, unknown> = {};
  child.stderr?.on("data", (d: Buffer) => (err += d.toString("utf8")));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const ready = new Promise<{ url: string; token?: string }>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once("line", (line) => {
      try {
        first = JSON.parse(line) as Record<string, unknown>;
        resolve(first as { url: string; token?: string });
      } catch {
        reject(new Error(`unexpected first line: ${line}`));
      }
    });
    void exited.then((code) => reject(new Error(`gateway exited ${code} before listening: ${err}`)));
  });
  let url: string;
  let generated: string | undefined;
  try {
    ({ url, token: generated } = await ready);
  } catch (e) {
    child.kill("SIGKILL");
    await rm(home, { recursive: true, force: true });
    throw e;
  }
  return {
    url,
    // A token the gateway generated (none configured) is on its first line.
    token: generated ?? env.OPENCLAW_GATEWAY_TOKEN ?? TEST_TOKEN,
    first,
    stateDir,
    home,
    child,
    stderr: () => err,
    async stop() {
      if (child.exitCode === null) child.kill("SIGTERM");
      const code = await exited;
      await rm(home, { recursive: true, force: true });
      return code;
    },
  };
}
