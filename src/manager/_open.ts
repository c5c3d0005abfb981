import { statSync } from "node:fs";
import { defaultConfig } from "../config/defaults.js";
import type { Config } from "../config/schema.js";
import { OpenclawError } from "../errors.js";
import { locateConfig, locateStore, missingConfig, type ConfigLocation, type StoreLocation } from "../config/locate.js";
import type { SummarizerDeps } from "../context/summarizer.js";
import { openStore, type OpenStoreOptions } from "../store/open.js";
import { loadKeyring } from "../store/encryption.js";
import type { SessionStore } from "../store/store.js";
import { ensureDir } from "./_refs.js";
import type { OpenOptions } from "./types.js";

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

/** Where the state dir, config file and store came from. The store URI may carry credentials: print it only through redactStoreUri. */
export type ManagerLocation = ConfigLocation & { store: StoreLocation };

/** Everything a manager is built from. */
export interface OpenedParts {
  store: SessionStore;
  config: Config;
  location: ManagerLocation;
  warnings: string[];
  fromFile: Set<string>;
  now: () => Date;
  deps: SummarizerDeps;
  warn: (message: string) => void;
}

/**
 * Where a process's state dir, config file and store are and the config it
 * runs with, found exactly as {@link openParts} finds them (commands that
 * open stores themselves, such as doctor and store copy, use it too).
 */
export async function locateSettings(options: Pick<OpenOptions, "stateDir" | "configPath" | "config" | "storeUri">): Promise<LoadedManagerConfig & { location: ManagerLocation }> {
  const location = locateConfig({ ...(options.stateDir !== undefined ? { stateDir: options.stateDir } : {}), ...(options.configPath !== undefined ? { config: options.configPath } : {}) });
  if (options.config === undefined && location.configPathSource !== "default" && !configFileExists(location.configPath)) throw missingConfig(location);
  const loaded = await loadManagerConfig(options.config, location.configPath);
  return { ...loaded, location: { ...location, store: locateStore(options.storeUri, loaded.config.storage.uri, location.stateDir) } };
}

/** The options a store is opened with under `config` (its encryption key read now: ENCRYPTION_KEY when it cannot be). */
export function storeOptions(config: Config, warn: (message: string) => void): OpenStoreOptions {
  const keyring = loadKeyring(config.storage.encryption);
  return { lockTimeoutMs: config.storage.lockTimeoutMs, staleLockMs: config.storage.staleLockMs, poolMax: config.storage.poolMax, warn, ...(keyring !== undefined ? { keyring } : {}) };
}

/** Finds and loads the config, reports its warnings, and opens the store (the state dir made 0700 first). */
export async function openParts(options: OpenOptions): Promise<OpenedParts> {
  const warn = options.warn ?? ((m: string) => process.stderr.write(`warning: ${m}\n`));
  const { config, warnings, fromFile, location } = await locateSettings(options);
  for (const w of warnings) warn(w);
  if (options.store !== undefined) location.store = { uri: `${options.store.kind}:`, source: "flag" };
  const uri = location.store.uri;
  if (options.store === undefined && uri.startsWith("file:") && !uri.startsWith("file://")) ensureDir(uri.slice("file:".length));
  const store = options.store ?? (await openStore(uri, storeOptions(config, warn)));
  return { store, config, location, warnings, fromFile, now: options.now ?? (() => new Date()), deps: options.summarizerDeps ?? {}, warn };
}
