import { lstat, opendir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { parseConfig } from "../config/load.js";
import { OpenclawError } from "../errors.js";
import { configFindings, keyFileOf, type Finding, type GeneratedToken } from "./_audit-config.js";

export { tokenWeakness, type Finding, type Severity } from "./_audit-config.js";

/** Options of {@link securityAudit}. */
export interface SecurityAuditOptions {
  stateDir: string;
  configPath: string;
  /** The environment the gateway runs with (tokens named by `tokenEnv`, OPENCLAW_GATEWAY_TOKEN); default this process's. */
  env?: NodeJS.ProcessEnv;
}

/** What {@link securityAudit} found. */
export interface SecurityAuditReport {
  stateDir: string;
  configPath: string;
  /** False when there is no config file (the defaults apply). */
  configExists: boolean;
  /** Most severe first; empty when nothing needs changing. */
  findings: Finding[];
}

const RANK = { high: 0, medium: 1, low: 2 } as const;
// Where the gateway keeps the token it generates on first start (gateway/token-file.ts; the manager sits below the gateway).
const TOKEN_FILE = "gateway-token";
// Files others can reach that a finding names by example before counting the rest.
const EXAMPLES = 3;

/**
 * Checks a set-up for what would expose its sessions: the state directory
 * and config file readable by other users (directories should be 0700,
 * files 0600), weak tokens, one credential holding every scope, a gateway
 * reachable from other machines without a token, an upstream over plain
 * http, no encryption at rest on an exposed gateway. Reads only: it opens
 * no store and changes nothing, so it is safe on a live set-up.
 */
export async function securityAudit(options: SecurityAuditOptions): Promise<SecurityAuditReport> {
  const { stateDir, configPath } = options;
  const raw = await readRawConfig(configPath);
  const configExists = raw !== undefined;
  const findings: Finding[] = [...configFindings(raw ?? {}, options.env ?? process.env, await generatedToken(stateDir))];
  // POSIX modes mean nothing on Windows, where access is set by ACLs.
  if (process.platform !== "win32") {
    findings.push(...(await modeFindings(stateDir, configPath, keyFileOf(raw ?? {}))));
  }
  findings.sort((a, b) => RANK[a.severity] - RANK[b.severity]);
  return { stateDir, configPath, configExists, findings };
}

/** The config file's JSON, or undefined when there is none; a malformed or invalid file is the loader's one-line error. */
async function readRawConfig(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return undefined;
    throw new OpenclawError("CONFIG_INVALID", `${path}: cannot read config file (${code ?? String(err)})`);
  }
  // Validated like every command does, so the audit never judges a config the gateway would refuse to start with.
  parseConfig(text, path);
  return text.trim() === "" ? {} : (JSON.parse(text) as unknown);
}

/** The generated token file and what it holds (read to judge its strength; never shown). */
async function generatedToken(stateDir: string): Promise<GeneratedToken> {
  const path = join(stateDir, TOKEN_FILE);
  try {
    const text = (await readFile(path, "utf8")).trim();
    return { path, secret: text === "" ? undefined : text };
  } catch {
    return { path, secret: undefined };
  }
}

async function modeOf(path: string): Promise<number | undefined> {
  try {
    return (await lstat(path)).mode & 0o777;
  } catch {
    return undefined;
  }
}

const octal = (mode: number): string => `0${mode.toString(8).padStart(3, "0")}`;

async function modeFindings(stateDir: string, configPath: string, keyFile: string | undefined): Promise<Finding[]> {
  const findings: Finding[] = [];
  const dirMode = await modeOf(stateDir);
  if (dirMode !== undefined && (dirMode & 0o077) !== 0) {
    findings.push({
      id: "state-dir-mode",
      severity: (dirMode & 0o007) !== 0 ? "high" : "medium",
      message: `the state directory ${stateDir} is mode ${octal(dirMode)}: other users can ${(dirMode & 0o022) !== 0 ? "change" : "list"} what it holds`,
      fix: `chmod 700 ${stateDir}`,
    });
  }
  const configMode = await modeOf(configPath);
  if (configMode !== undefined && (configMode & 0o077) !== 0) {
    findings.push({
      id: "config-mode",
      severity: (configMode & 0o022) !== 0 || (configMode & 0o004) !== 0 ? "high" : "medium",
      message: `the config file ${configPath} is mode ${octal(configMode)}: other users can ${(configMode & 0o022) !== 0 ? "change" : "read"} it, tokens included`,
      fix: `chmod 600 ${configPath}`,
    });
  }
  if (keyFile !== undefined) {
    const keyMode = await modeOf(keyFile);
    if (keyMode !== undefined && (keyMode & 0o077) !== 0) {
      findings.push({
        id: "key-file-mode",
        severity: "high",
        message: `the encryption key file ${keyFile} is mode ${octal(keyMode)}: other users can read the key to every stored message`,
        fix: `chmod 600 ${keyFile}`,
      });
    }
  }
  if (dirMode !== undefined) {
    const open = await openEntries(stateDir, new Set([configPath]));
    if (open.count > 0) {
      const shown = open.examples.map((e) => `${relative(stateDir, e.path) || "."} (${octal(e.mode)})`).join(", ");
      findings.push({
        id: "state-files-mode",
        severity: "medium",
        message: `${open.count} ${open.count === 1 ? "entry" : "entries"} under ${stateDir} can be reached by other users: ${shown}${open.count > open.examples.length ? ", …" : ""}`,
        fix: `chmod -R go-rwx ${stateDir} (directories 0700, files 0600)`,
      });
    }
  }
  return findings;
}

/** Files and directories under `root` (not `root` itself, nor `skip`) with any group or other permission bit. Symlinks are not followed. */
async function openEntries(root: string, skip: ReadonlySet<string>): Promise<{ count: number; examples: Array<{ path: string; mode: number }> }> {
  const out = { count: 0, examples: [] as Array<{ path: string; mode: number }> };
  const walk = async (dir: string): Promise<void> => {
    let handle;
    try {
      handle = await opendir(dir);
    } catch {
      return;
    }
    for await (const entry of handle) {
      const path = join(dir, entry.name);
      if (skip.has(path) || entry.isSymbolicLink()) continue;
      const mode = await modeOf(path);
      if (mode !== undefined && (mode & 0o077) !== 0) {
        out.count += 1;
        if (out.examples.length < EXAMPLES) out.examples.push({ path, mode });
      }
      if (entry.isDirectory()) await walk(path);
    }
  };
  await walk(root);
  return out;
}
