import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { OpenclawError } from "../errors.js";

/** Where the state directory and config file come from, in order of precedence. */
export interface ConfigLocation {
  stateDir: string;
  stateDirSource: "flag" | "env" | "default";
  configPath: string;
  configPathSource: "flag" | "env" | "default";
}

/** Resolves `--state-dir` > OPENCLAW_STATE_DIR > ~/.openclaw, and `--config` > OPENCLAW_CONFIG_PATH > <state>/config.json. */
export function locateConfig(flags: { stateDir?: string; config?: string }, env: NodeJS.ProcessEnv = process.env): ConfigLocation {
  const envDir = env.OPENCLAW_STATE_DIR;
  const envCfg = env.OPENCLAW_CONFIG_PATH;
  const [stateDir, stateDirSource] =
    flags.stateDir !== undefined && flags.stateDir !== ""
      ? [resolve(flags.stateDir), "flag" as const]
      : envDir !== undefined && envDir !== ""
        ? [resolve(envDir), "env" as const]
        : [join(homedir(), ".openclaw"), "default" as const];
  const [configPath, configPathSource] =
    flags.config !== undefined && flags.config !== ""
      ? [resolve(flags.config), "flag" as const]
      : envCfg !== undefined && envCfg !== ""
        ? [resolve(envCfg), "env" as const]
        : [join(stateDir, "config.json"), "default" as const];
  return { stateDir, stateDirSource, configPath, configPathSource };
}

/** The store a process uses and where that choice came from. */
export interface StoreLocation {
  uri: string;
  source: "flag" | "env" | "config" | "default";
}

/** Resolves `--store` (or the library's `storeUri`) > OPENCLAW_STORE > config `storage.uri` > the state dir's file store. */
export function locateStore(flag: string | undefined, configured: string | undefined, stateDir: string, env: NodeJS.ProcessEnv = process.env): StoreLocation {
  if (flag !== undefined && flag !== "") return { uri: flag, source: "flag" };
  const fromEnv = env.OPENCLAW_STORE;
  if (fromEnv !== undefined && fromEnv !== "") return { uri: fromEnv, source: "env" };
  if (configured !== undefined) return { uri: configured, source: "config" };
  return { uri: `file:${stateDir}`, source: "default" };
}

/** The error for a config file named on purpose (flag or env) that does not exist: silently using the defaults would hide a typo. */
export function missingConfig(location: ConfigLocation): OpenclawError {
  const by = location.configPathSource === "flag" ? "--config" : "OPENCLAW_CONFIG_PATH";
  return new OpenclawError("CONFIG_INVALID", `${location.configPath}: no such config file (named by ${by}); create it or leave ${by} out to use the defaults`);
}
