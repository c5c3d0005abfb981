import { statSync } from "node:fs";
import { defaultConfig } from "../config/defaults.js";
import type { Config } from "../config/schema.js";
import { OpenclawError } from "../errors.js";

/** The effective config, its warnings and the keys the file set. */
export interface LoadedManagerConfig {
  config: Config;
  warnings: string[];
  fromFile: Set<string>;
}

/**
 * The config a manager opens with: an object given by the caller, else the
 * file at `configPath`, else the defaults. zod and the file loader are
 * imported only on the paths that need them.
 */
export async function loadManagerConfig(given: unknown, configPath: string): Promise<LoadedManagerConfig> {
  if (given !== undefined) {
    const { configSchema } = await import("../config/schema.js");
    const r = configSchema.safeParse(given);
    if (!r.success) {
      const issue = r.error.issues[0];
      throw new OpenclawError("CONFIG_INVALID", `config: ${issue?.path.join(".") ?? ""}: ${issue?.message ?? "invalid"}`);
    }
    return { config: r.data, warnings: [], fromFile: new Set() };
  }
  if (!configFileExists(configPath)) return { config: defaultConfig(), warnings: [], fromFile: new Set() };
  const { loadConfig } = await import("../config/load.js");
  return loadConfig(configPath);
}

// Only a definite "no such file" means defaults; any other problem (a
// directory, no permission) is left to the loader to report.
function configFileExists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== "ENOENT";
  }
}
