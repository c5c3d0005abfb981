import type { Command } from "commander";
import type { SessionManager } from "../manager/manager.js";
import { isOpenclawError, OpenclawError } from "../errors.js";
import { warn } from "./_render.js";

// The file store's warning when it moves a corrupt document aside.
const QUARANTINE_RE = /^sessions\/([0-9a-f-]{36})\.json: corrupt session file \((.*)\); moved to (\S+)$/;

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
  const quarantined: Array<{ id: string; reason: string; movedTo: string }> = [];
  const manager = await SessionManager.open({
    ...(flags.stateDir !== undefined ? { stateDir: flags.stateDir } : {}),
    ...(flags.config !== undefined ? { configPath: flags.config } : {}),
    ...(flags.store !== undefined ? { storeUri: flags.store } : {}),
    warn: (message) => {
      const m = QUARANTINE_RE.exec(message);
      if (m !== null) quarantined.push({ id: m[1] as string, reason: m[2] as string, movedTo: m[3] as string });
      warn(message);
    },
  });
  let result: T;
  try {
    result = await fn(manager);
  } catch (err) {
    // The command's own error is the one worth reporting; a failing close after it is noise.
    await manager.close().catch(() => undefined);
    // "No session matches" right after the store moved that session's corrupt file aside would mislead.
    const hit = quarantined[0];
    if (hit !== undefined && isOpenclawError(err, "NOT_FOUND")) {
      throw new OpenclawError("NOT_FOUND", `session ${hit.id} is corrupt (${hit.reason}) and was moved to ${hit.movedTo} in the state directory; the other sessions are fine (openclaw doctor tells what can be done)`);
    }
    throw err;
  }
  await manager.close();
  return result;
}
