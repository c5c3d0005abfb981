import type { Command } from "commander";
import { loadConfig, locateConfig, type ConfigLocation, type LoadedConfig } from "../../config/load.js";
import { redactConfig } from "../../config/redact.js";
import { resolveWindow, tokenBudget } from "../../context/windows.js";
import { isOpenclawError } from "../../errors.js";
import { missingConfig } from "../../config/locate.js";
import { globalFlags } from "../_context.js";
import type { JsonFlag } from "../_args.js";
import { colors, formatBytes, formatDuration, keyValues, print, printJson, table, warn } from "../_render.js";

/** Where one effective config value came from. */
export type ValueSource = "file" | "default";

const SOURCE_LABEL = { flag: "from the command line", env: "from the environment", default: "default" } as const;

// The config commands read the file themselves rather than open the manager:
// checking a config must not create a state directory or open the store.
function load(cmd: Command): { location: ConfigLocation; loaded: LoadedConfig; notes: string[] } {
  const flags = globalFlags(cmd);
  const location = locateConfig({ ...(flags.stateDir !== undefined ? { stateDir: flags.stateDir } : {}), ...(flags.config !== undefined ? { config: flags.config } : {}) });
  const loaded = loadConfig(location.configPath);
  if (!loaded.fileExists && location.configPathSource !== "default") throw missingConfig(location);
  const w = resolveWindow(loaded.config.sessions);
  const b = tokenBudget(w.window, loaded.config.sessions.reserveTokens);
  const notes = [...loaded.warnings, ...[w.warning, b.warning].filter((x): x is string => x !== undefined)];
  return { location, loaded, notes };
}

/** `openclaw config show`. */
export async function runConfigShow(flags: JsonFlag, cmd: Command): Promise<void> {
  const { location, loaded, notes } = load(cmd);
  for (const note of notes) warn(note);
  // Printed output lands in terminals, logs and bug reports: secrets never do.
  const shown = redactConfig(loaded.config);
  const leaves = flatten(shown as unknown as Record<string, unknown>, "", loaded.fromFile);
  if (flags.json) {
    printJson({
      stateDir: { path: location.stateDir, source: location.stateDirSource },
      configPath: { path: location.configPath, source: location.configPathSource, exists: loaded.fileExists },
      config: shown,
      sources: Object.fromEntries(leaves.map((l) => [l.path, l.source])),
      warnings: notes,
    });
    return;
  }
  const fileNote = loaded.fileExists ? "" : "; no file, defaults apply";
  print(
    keyValues([
      ["state dir", `${location.stateDir} ${colors.dim(`(${SOURCE_LABEL[location.stateDirSource]})`)}`],
      ["config", `${location.configPath} ${colors.dim(`(${SOURCE_LABEL[location.configPathSource]}${fileNote})`)}`],
    ]),
  );
  print();
  const rows = leaves.map((l) => [l.path, readable(l.path, l.value), l.source === "file" ? colors.green("file") : colors.dim("default")]);
  print(table(["KEY", "VALUE", "SOURCE"], rows));
}

/** `openclaw config validate`: exit 0 with "…: valid", or the one-line problem and exit 1. */
export async function runConfigValidate(cmd: Command, flags: JsonFlag = {}): Promise<void> {
  let result: ReturnType<typeof load>;
  try {
    result = load(cmd);
  } catch (err) {
    // The error line still goes to stderr (main.ts) with exit 1; --json also gets its document.
    if (flags.json && isOpenclawError(err)) printJson({ path: configPathOf(cmd), valid: false, error: err.message });
    throw err;
  }
  const { location, loaded, notes } = result;
  for (const note of notes) warn(note);
  if (flags.json) {
    printJson({ path: location.configPath, valid: true, warnings: notes });
    return;
  }
  const base = location.configPath.replace(/^.*[\\/]/, "");
  // Same naming as the loader's messages: the short name for the usual file, the full path otherwise.
  const name = base === "config.json" ? "config.json" : location.configPath;
  print(loaded.fileExists ? `${name}: valid` : `${name}: no file at ${location.configPath}; the defaults apply`);
}

function configPathOf(cmd: Command): string {
  const flags = globalFlags(cmd);
  return locateConfig({ ...(flags.stateDir !== undefined ? { stateDir: flags.stateDir } : {}), ...(flags.config !== undefined ? { config: flags.config } : {}) }).configPath;
}

interface Leaf {
  path: string;
  value: unknown;
  source: ValueSource;
}

function flatten(obj: Record<string, unknown>, prefix: string, fromFile: ReadonlySet<string>): Leaf[] {
  const out: Leaf[] = [];
  for (const [k, v] of Object.entries(obj)) {
    const path = prefix === "" ? k : `${prefix}.${k}`;
    const nested = v !== null && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length > 0;
    // A path the file set as a whole (e.g. identityLinks, a free-form map) is one leaf.
    if (nested && !fromFile.has(path)) out.push(...flatten(v as Record<string, unknown>, path, fromFile));
    else out.push({ path, value: v, source: fromFile.has(path) ? "file" : "default" });
  }
  return out;
}

// Durations and sizes get a human form beside the raw number the file takes.
function readable(path: string, value: unknown): string {
  const raw = JSON.stringify(value);
  if (typeof value !== "number") return raw;
  // Retention ages are durations too, though the key does not say so (they take "30d" in the file).
  if (path.endsWith("Ms") || path.endsWith("After")) return `${raw} ${colors.dim(`(${formatDuration(value)})`)}`;
  if (path.endsWith("Bytes")) return `${raw} ${colors.dim(`(${formatBytes(value)})`)}`;
  return raw;
}
