import { randomBytes } from "node:crypto";
import { fstatSync, futimes, openSync, unlinkSync } from "node:fs";
import { lstat, mkdir, rmdir, unlink } from "node:fs/promises";
import { hostname } from "node:os";
import { OpenclawError, storageError } from "../../errors.js";
import { throwIfAborted } from "../_mutex.js";
import { DIR_MODE, FILE_MODE, closeQuietly, errnoOf, ignoreMissing, readSmallSync, sleep, writeAll } from "./_fs.js";
import type { Layout } from "./_paths.js";
import { INDEX_LOCK } from "./_paths.js";

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

/** Timing of the cross-process lock. */
export interface LockTiming {
  lockTimeoutMs: number;
  staleLockMs: number;
}

const FIRST_DELAY_MS = 2;
const MAX_DELAY_MS = 50;
/** A breaker lives for a few syscalls; one this old belongs to a process that died mid-break. */
const BREAKER_STALE_MS = 5_000;
/** Window between creating a lock file and writing its content; an empty lock older than this is abandoned. */
const UNWRITTEN_GRACE_MS = 2_000;
const HOST = hostname();

/**
 * Cross-process exclusive locks as `<name>.lock` files created with O_EXCL.
 * A held lock's mtime is refreshed periodically, so age alone marks a lock
 * whose holder died on another host or whose pid was reused.
 */
export class FileLocks {
  constructor(
    private readonly layout: Layout,
    private readonly timing: LockTiming,
  ) {}

  /**
   * Runs `fn` holding lock `name`; waits up to lockTimeoutMs, breaking stale
   * locks on the way. `signal` abandons the wait with ABORTED (never `fn`
   * once it runs: it holds the lock and must finish to release it cleanly).
   */
  async hold<T>(name: string, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const path = this.layout.lock(name);
    const held = await this.acquire(name, path, signal);
    const everyMs = Math.max(5, Math.floor(this.timing.staleLockMs / 4));
    const heartbeat = setInterval(() => {
      const now = new Date();
      futimes(held.fd, now, now, () => undefined);
    }, everyMs);
    heartbeat.unref();
    try {
      return await fn();
    } finally {
      clearInterval(heartbeat);
      await this.release(path, held);
    }
  }

  /** Reads a lock file; undefined when there is none. */
  async inspect(name: string): Promise<LockState | undefined> {
    const file = readSmallSync(this.layout.lock(name));
    if (file === undefined) return undefined;
    const raw = file.data.toString("utf8");
    return { raw, info: parseInfo(raw), ino: file.ino, mtimeMs: file.mtimeMs };
  }

  /** True when the lock's holder is gone: a dead pid on this host, or no refresh for staleLockMs. */
  isStale(state: LockState, now = Date.now()): boolean {
    const age = now - state.mtimeMs;
    if (state.info === undefined) return age > Math.min(UNWRITTEN_GRACE_MS, this.timing.staleLockMs);
    if (age > this.timing.staleLockMs) return true;
    return state.info.hostname === HOST && !pidAlive(state.info.pid);
  }

  /**
   * Removes lock `name` if it is still the stale lock `seen`. A breaker
   * directory makes breakers take turns, so one cannot remove a fresh lock
   * that another breaker's successor just created.
   */
  async breakStale(name: string, seen: LockState): Promise<boolean> {
    const breaker = this.layout.breaker(name);
    try {
      await mkdir(breaker, { mode: DIR_MODE });
    } catch (err) {
      if (errnoOf(err) !== "EEXIST") throw storageError("create", breaker, err);
      await this.removeStaleBreaker(name);
      return false;
    }
    try {
      const again = await this.inspect(name);
      if (again === undefined) return true;
      if (again.ino !== seen.ino || again.raw !== seen.raw || !this.isStale(again)) return false;
      await unlink(this.layout.lock(name)).catch(ignoreMissing);
      return true;
    } finally {
      await rmdir(breaker).catch(() => undefined);
    }
  }

  /** Removes breaker `name` when it is older than a breaker can legitimately live; true if (with dryRun: would be) removed. */
  async removeStaleBreaker(name: string, dryRun = false): Promise<boolean> {
    const breaker = this.layout.breaker(name);
    const st = await lstat(breaker).catch(ignoreMissing);
    if (st === undefined || Date.now() - st.mtimeMs <= Math.min(BREAKER_STALE_MS, this.timing.staleLockMs)) return false;
    if (!dryRun) await rmdir(breaker).catch(() => undefined);
    return true;
  }

  private async acquire(name: string, path: string, signal: AbortSignal | undefined): Promise<{ fd: number; ino: number; raw: string }> {
    const deadline = Date.now() + this.timing.lockTimeoutMs;
    let delay = FIRST_DELAY_MS;
    for (;;) {
      throwIfAborted(signal);
      const info: LockInfo = { pid: process.pid, hostname: HOST, createdAt: new Date().toISOString(), token: randomBytes(8).toString("hex") };
      const raw = JSON.stringify(info);
      let fd: number | undefined;
      try {
        // Synchronous on purpose: these calls take microseconds, far less than a thread-pool round trip.
        fd = openSync(path, "wx", FILE_MODE);
        writeAll(fd, Buffer.from(raw, "utf8"));
        const st = fstatSync(fd);
        return { fd, ino: st.ino, raw };
      } catch (err) {
        if (fd !== undefined) {
          // Created but could not be written: do not leave a lock nobody holds.
          closeQuietly(fd);
          try {
            unlinkSync(path);
          } catch {
            // Already gone.
          }
          throw storageError("write lock", path, err);
        }
        if (errnoOf(err) !== "EEXIST") throw storageError("create lock", path, err);
      }
      const state = await this.inspect(name);
      if (state === undefined) continue;
      if (this.isStale(state) && (await this.breakStale(name, state))) continue;
      const left = deadline - Date.now();
      if (left <= 0) throw timeoutError(name, state);
      await sleep(Math.min(left, delay * (0.5 + Math.random() * 0.5)), signal);
      delay = Math.min(MAX_DELAY_MS, delay * 2);
    }
  }

  private async release(path: string, held: { fd: number; ino: number; raw: string }): Promise<void> {
    closeQuietly(held.fd);
    // Someone may have judged our lock stale and replaced it; theirs is not ours to remove.
    let now;
    try {
      now = readSmallSync(path);
    } catch {
      now = undefined;
    }
    if (now === undefined || now.ino !== held.ino || now.data.toString("utf8") !== held.raw) return;
    try {
      unlinkSync(path);
    } catch {
      // Already gone.
    }
  }
}

function parseInfo(raw: string): LockInfo | undefined {
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

/** True unless signalling the pid says it does not exist (EPERM means alive, owned by someone else). */
export function pidAlive(pid: number): boolean {
  if (pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errnoOf(err) !== "ESRCH";
  }
}

function timeoutError(name: string, state: LockState): OpenclawError {
  const what = name === INDEX_LOCK ? "the session index" : `session ${name}`;
  const info = state.info;
  const who =
    info === undefined
      ? "an unknown process"
      : `process ${info.pid}${info.hostname === HOST ? "" : ` on ${info.hostname}`} since ${info.createdAt}`;
  return new OpenclawError("LOCK_TIMEOUT", `${what} is locked by ${who}; retry, or run \`openclaw sessions compact\` if that process is gone`);
}
