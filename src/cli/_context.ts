import type { Command } from "commander";
import type { SessionManager } from "../manager/manager.js";
import { warn } from "./_render.js";

/** The options every command inherits from the program. */
export interface GlobalFlags {
  stateDir?: string;
  config?: string;
  store?: string;
}

/** The global flags as given on the command line (env and defaults are resolved by the config loader). */
export function globalFlags(cmd: Command): GlobalFlags {
  const all = cmd.optsWithGlobals<GlobalFlags>();
  return {
    ...(all.stateDir !== undefined ? { stateDir: all.stateDir } : {}),
    ...(all.config !== undefined ? { config: all.config } : {}),
    ...(all.store !== undefined ? { store: all.store } : {}),
  };
}

/** Opens the manager from the global flags and closes it when `fn` settles. */
export async function withManager<T>(cmd: Command, fn: (manager: SessionManager) => Promise<T>): Promise<T> {
  // Loaded here rather than at the top so `--help`, `--version` and usage
  // errors never pay for the engine.
  const { SessionManager } = await import("../manager/manager.js");
  const flags = globalFlags(cmd);
  const manager = await SessionManager.open({
    ...(flags.stateDir !== undefined ? { stateDir: flags.stateDir } : {}),
    ...(flags.config !== undefined ? { configPath: flags.config } : {}),
    ...(flags.store !== undefined ? { storeUri: flags.store } : {}),
    warn,
  });
  let result: T;
  try {
    result = await fn(manager);
  } catch (err) {
    // The command's own error is the one worth reporting; a failing close after it is noise.
    await manager.close().catch(() => undefined);
    throw err;
  }
  await manager.close();
  return result;
}
