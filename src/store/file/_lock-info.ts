import { hostname } from "node:os";
import { OpenclawError } from "../../errors.js";
import { INDEX_LOCK } from "./_paths.js";

/** This machine's name, written into every lock file. */
export const HOST = hostname();

/** What a lock file holds: who took it and when. `token` tells our own lock from a successor's. */
export interface LockInfo {
  pid: number;
  hostname: string;
  createdAt: string;
  token?: string;
}

/** A lock file as found on disk. */
export interface LockState {
  raw: string;
  info: LockInfo | undefined;
  ino: number;
  mtimeMs: number;
}

export function parseInfo(raw: string): LockInfo | undefined {
  try {
    const v: unknown = JSON.parse(raw);
    if (typeof v !== "object" || v === null) return undefined;
    const o = v as Record<string, unknown>;
    if (!Number.isSafeInteger(o.pid) || typeof o.hostname !== "string" || typeof o.createdAt !== "string") return undefined;
    return { pid: o.pid as number, hostname: o.hostname, createdAt: o.createdAt, ...(typeof o.token === "string" ? { token: o.token } : {}) };
  } catch {
    return undefined;
  }
}

export function timeoutError(name: string, state: LockState): OpenclawError {
  const what = name === INDEX_LOCK ? "the session index" : `session ${name}`;
  const info = state.info;
  const who = info === undefined ? "an unknown process" : `process ${info.pid}${info.hostname === HOST ? "" : ` on ${info.hostname}`} since ${info.createdAt}`;
  return new OpenclawError("LOCK_TIMEOUT", `${what} is locked by ${who}; retry, or run \`openclaw sessions compact\` if that process is gone`);
}
