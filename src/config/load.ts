import { readFileSync } from "node:fs";
import { OpenclawError } from "../errors.js";
import { jsonErrorPosition } from "./_json-position.js";
import { configSchema, type Config } from "./schema.js";

export { locateConfig, type ConfigLocation } from "./locate.js";

/** The effective config, the warnings met, and which dotted key paths came from the file. */
export interface LoadedConfig {
  config: Config;
  warnings: string[];
  /** Dotted paths of leaf values set in the file; all others are defaults. */
  fromFile: Set<string>;
  /** False when the file did not exist (defaults only). */
  fileExists: boolean;
  path: string;
}

/** Reads and validates a config file; a missing file means defaults. */
export function loadConfig(path: string): LoadedConfig {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return { config: configSchema.parse({}), warnings: [], fromFile: new Set(), fileExists: false, path };
    throw new OpenclawError("CONFIG_INVALID", `${path}: cannot read config file (${code ?? String(err)})`);
  }
  return { ...parseConfig(text, path), fileExists: true, path };
}

/** Validates config text; `label` names the file in messages. Pure. */
export function parseConfig(text: string, label: string): Omit<LoadedConfig, "fileExists" | "path"> {
  const name = label.replace(/^.*[\\/]/, "") === "config.json" ? "config.json" : label;
  let raw: unknown;
  try {
    raw = text.trim() === "" ? {} : JSON.parse(text);
  } catch {
    const pos = jsonErrorPosition(text);
    throw new OpenclawError("CONFIG_PARSE", `${name}: malformed JSON at line ${pos.line}, column ${pos.column}: ${pos.reason}`);
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new OpenclawError("CONFIG_INVALID", `${name}: expected a JSON object at the top level, got ${Array.isArray(raw) ? "an array" : JSON.stringify(raw)}`);
  }
  const result = configSchema.safeParse(raw, { reportInput: true });
  if (!result.success) {
    const first = result.error.issues[0];
    // A bad key of a map (an empty model name) carries its own message one level down.
    const issue = first?.code === "invalid_key" ? (first.issues[0] ?? first) : first;
    const path = first?.path.join(".") || "(root)";
    const got = issue && "input" in issue ? formatGot(issue.input) : "an invalid value";
    throw new OpenclawError("CONFIG_INVALID", `${name}: ${path}: ${issue?.message ?? "invalid value"}, got ${got}`);
  }
  const warnings: string[] = [];
  // An empty file is more often a truncated write or a slip than a wish for the defaults: they apply, said out loud.
  if (text.trim() === "") warnings.push(`${name}: the file is empty, so every setting has its default (write {} to say so on purpose)`);
  const fromFile = new Set<string>();
  walkUnknown(raw as Record<string, unknown>, result.data as unknown as Record<string, unknown>, "", name, warnings, fromFile);
  return { config: result.data, warnings, fromFile };
}

function formatGot(input: unknown): string {
  if (input === undefined) return "nothing";
  const text = JSON.stringify(input) ?? String(input);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

// Keys of free-form maps (identityLinks) are data, not settings, so they are never "unknown".
const FREE_FORM = new Set(["sessions.identityLinks"]);

function walkUnknown(raw: Record<string, unknown>, parsed: Record<string, unknown>, prefix: string, name: string, warnings: string[], fromFile: Set<string>): void {
  for (const [k, v] of Object.entries(raw)) {
    const path = prefix === "" ? k : `${prefix}.${k}`;
    if (!(k in parsed)) {
      const near = closest(k, Object.keys(parsed));
      const hint = near === undefined ? "" : `; did you mean ${prefix === "" ? near : `${prefix}.${near}`}?`;
      warnings.push(`${name}: unknown key ${path} is ignored${hint}`);
      continue;
    }
    const p = parsed[k];
    if (!FREE_FORM.has(path) && v !== null && typeof v === "object" && !Array.isArray(v) && p !== null && typeof p === "object" && !Array.isArray(p)) {
      walkUnknown(v as Record<string, unknown>, p as Record<string, unknown>, path, name, warnings, fromFile);
    } else {
      fromFile.add(path);
    }
  }
}

/** The known key a misspelling most likely meant: same letters ignoring case, or at most two edits away. */
function closest(word: string, known: readonly string[]): string | undefined {
  const lower = word.toLowerCase();
  let best: string | undefined;
  let bestDistance = Math.min(3, Math.max(1, Math.floor(word.length / 3)) + 1);
  for (const k of known) {
    const d = k.toLowerCase() === lower ? 0 : editDistance(lower, k.toLowerCase());
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row.push(Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + cost));
    }
    prev = row;
  }
  return prev[b.length] as number;
}
