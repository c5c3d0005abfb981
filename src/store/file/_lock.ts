import { randomBytes } from "node:crypto";
import { fchmodSync, fstatSync, futimes, openSync, statSync, unlinkSync } from "node:fs";
import { lstat, mkdir, rmdir, unlink } from "node:fs/promises";
import { storageError } from "../../errors.js";
import { throwIfAborted } from "../_mutex.js";
import { DIR_MODE, FILE_MODE, closeQuietly, errnoOf, ignoreMissing, readSmallSync, sleep, writeAll } from "./_fs.js";
import type { Layout } from "./_paths.js";
import { HOST, parseInfo, timeoutError, type LockInfo, type LockState } from "./_lock-info.js";
import { pidAlive } from "./_pid.js";
import { fresh, touch } from "./_want.js";
import { FIRST_DELAY_MS, MAX_DELAY_MS, BREAKER_STALE_MS, UNWRITTEN_GRACE_MS, LEASE_IDLE_MS, WANT_POLL_MS, MAX_IDLE_LEASES, LEASE_MAX_MS, YIELD_MS, WANT_RECHECK_MS, type LockTiming } from "./_lock-timing.js";

export type { LockTiming };

/** A lock file this instance holds, in use or leased. */
interface Held {
  name: string;
  path: string;
  fd: number;
  ino: number;
  raw: string;
  since: number;
  /** Unique per lock file this process created: the same number across reuses of one lease, a new one after any gap. */
  generation: number;
  /** When lease() last found nobody waiting for it (Date.now()). */
  unwantedAt: number;
  /**
   * Until when (Date.now()) its file is known to still be ours without a
   * stat: a third of staleLockMs after the file's mtime was last set while
   * it was known ours. Nobody breaks a lock younger than staleLockMs, so two
   * thirds of it are left for clocks and thread-pool delays.
   */
  trustedUntil: number;
  heartbeat: NodeJS.Timeout;
  idle: NodeJS.Timeout | undefined;
}

/** Instances with leases, released synchronously when the process exits so a clean exit leaves no lock file. */
const leasing = new Set<FileLocks>();
let exitHook = false;
let generations = 0;

/**
 * Cross-process exclusive locks as `<name>.lock` files created with O_EXCL.
 * A held lock's mtime is refreshed periodically, so age alone marks a lock
 * whose holder died on another host or whose pid was reused.
 */
export class FileLocks {
  private readonly leases = new Map<string, Held>();
  /** Locks in use by an operation now, by name. */
  private readonly inUse = new Map<string, Held>();
  /** When the store-wide waiter marker was last looked at (Date.now()), and whether it was fresh then. */
  private anyCheckedAt = Number.NEGATIVE_INFINITY;
  private anyWaiter = false;
  /** Looks idle leases over for waiters while there are any. */
  private sweeper: NodeJS.Timeout | undefined;

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
    const held = this.reuse(name) ?? (await this.acquire(name, this.layout.lock(name), signal));
    this.inUse.set(name, held);
    try {
      return await fn();
    } finally {
      this.inUse.delete(name);
      this.lease(held);
    }
  }

  /**
   * The generation of lock `name` while an operation holds it, else
   * undefined. Two operations see the same generation only when this
   * instance kept the lock file between them (a lease no other process
   * could take), so nothing another process does can have come in between.
   */
  generation(name: string): number | undefined {
    return this.inUse.get(name)?.generation;
  }

  /** The generation of lock `name` while in use or leased by this instance and still its file (not broken as stale meanwhile); else undefined. */
  keptGeneration(name: string): number | undefined {
    const inUse = this.inUse.get(name);
    if (inUse !== undefined) return inUse.generation;
    const leased = this.leases.get(name);
    return leased !== undefined && this.stillOurs(leased, Date.now()) ? leased.generation : undefined;
  }

  /** True when `held`'s file is still the one this instance created: trusted within its window, else looked at (a stat). */
  private stillOurs(held: Held, now: number): boolean {
    if (now < held.trustedUntil) return true;
    try {
      const st = statSync(held.path, { throwIfNoEntry: false });
      if (st?.ino !== held.ino) return false;
      held.trustedUntil = Math.max(held.trustedUntil, st.mtimeMs + this.trustMs());
      return true;
    } catch {
      return false;
    }
  }

  /** How long after its mtime was set a lock file is trusted to be ours without a look. */
  private trustMs(): number {
    return this.timing.staleLockMs / 3;
  }

  /** Gives back every leased lock now (close, maintenance, process exit). */
  releaseLeases(): void {
    for (const held of this.leases.values()) this.release(held);
    this.leases.clear();
    leasing.delete(this);
    if (this.sweeper !== undefined) clearInterval(this.sweeper);
    this.sweeper = undefined;
  }

  /**
   * The lease of `name`, if it can serve another operation: young enough, no
   * other process waiting for it, and still our file (not broken as stale
   * while this process was paused). Callers hold the in-process mutex of
   * `name`, so a lease is never used by two operations at once.
   */
  private reuse(name: string): Held | undefined {
    const held = this.leases.get(name);
    if (held === undefined) return undefined;
    // Its idle timer stays armed: it gives back only a lock that is leased, not one in use.
    this.leases.delete(name);
    const now = Date.now();
    // Still our file: not broken as stale while this process was paused, nor removed by hand.
    const ours = this.stillOurs(held, now);
    // Nobody was found waiting a moment ago (a caller queued behind the last operation): not looked at again.
    if (ours && now - held.since < LEASE_MAX_MS) {
      if (now - held.unwantedAt <= WANT_RECHECK_MS) return held;
      if (!this.wanted(name)) {
        held.unwantedAt = now;
        return held;
      }
    }
    this.release(held);
    return undefined;
  }

  /**
   * Keeps the lock file after an operation instead of removing it, because
   * creating and removing it are metadata changes every next fdatasync pays
   * for, and a lock kept needs no re-read of the session's state; it is
   * given back after LEASE_IDLE_MS unused, within WANT_POLL_MS when another
   * process waits for it, and is never reused past LEASE_MAX_MS.
   */
  private lease(held: Held): void {
    const now = Date.now();
    // Looked at most once per WANT_RECHECK_MS (here or in reuse()): a waiter's first poll comes later.
    const look = now - held.unwantedAt > WANT_RECHECK_MS;
    if (now - held.since >= LEASE_MAX_MS || (look && this.wanted(held.name))) {
      this.release(held);
      return;
    }
    if (look) held.unwantedAt = now;
    if (held.idle === undefined) {
      held.idle = setTimeout(() => {
        held.idle = undefined;
        if (this.leases.get(held.name) !== held) return;
        this.leases.delete(held.name);
        this.release(held);
      }, LEASE_IDLE_MS);
      held.idle.unref();
    } else held.idle.refresh();
    this.leases.delete(held.name);
    this.leases.set(held.name, held);
    if (this.leases.size > MAX_IDLE_LEASES) {
      // Least recently used first: reuse() takes a lease out and lease() puts it back at the end.
      const [oldest, lru] = this.leases.entries().next().value as [string, Held];
      this.leases.delete(oldest);
      this.release(lru);
    }
    if (this.sweeper === undefined) {
      this.sweeper = setInterval(() => this.sweep(), WANT_POLL_MS);
      this.sweeper.unref();
    }
    leasing.add(this);
    if (!exitHook) {
      exitHook = true;
      process.once("exit", () => {
        for (const locks of leasing) locks.releaseLeases();
      });
    }
  }

  /** Gives back every idle lease another process (or store instance) waits for; stops looking once no lease is left. */
  private sweep(): void {
    if (this.leases.size === 0) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
      return;
    }
    const now = Date.now();
    this.anyWaiter = fresh(this.layout.anyWant, now);
    this.anyCheckedAt = now;
    if (!this.anyWaiter) return;
    for (const [name, held] of [...this.leases]) {
      if (!fresh(this.layout.want(name), now)) continue;
      this.leases.delete(name);
      this.release(held);
    }
  }

  /**
   * True when another process (or store instance) marked that it waits for
   * lock `name`. Every waiter also refreshes the store-wide marker, looked
   * at most once per WANT_RECHECK_MS for all locks of this instance: while
   * it is stale, a busy store with many leases makes no call per lock.
   */
  private wanted(name: string): boolean {
    const now = Date.now();
    if (now - this.anyCheckedAt > WANT_RECHECK_MS) {
      this.anyWaiter = fresh(this.layout.anyWant, now);
      this.anyCheckedAt = now;
    }
    return this.anyWaiter && fresh(this.layout.want(name), now);
  }

  /** Tells the holder of `name` that this instance waits: it then gives the lock back after its current operation. */
  private markWanted(name: string): void {
    // The lock's own marker first: a holder that sees the store-wide one fresh looks at it next.
    touch(this.layout.want(name));
    touch(this.layout.anyWant);
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

  private async acquire(name: string, path: string, signal: AbortSignal | undefined): Promise<Held> {
    const deadline = Date.now() + this.timing.lockTimeoutMs;
    let delay = FIRST_DELAY_MS;
    let marked = false;
    // A waiter polls with backoff, so a lock given back because it was wanted would be
    // taken again by its busy holder first; holding off for one poll hands it over.
    if (this.wanted(name)) await this.yieldTo(name, path, signal);
    try {
      for (;;) {
        throwIfAborted(signal);
        const held = this.tryCreate(name, path);
        if (held !== undefined) return held;
        const state = await this.inspect(name);
        if (state === undefined) continue;
        if (this.isStale(state) && (await this.breakStale(name, state))) continue;
        const left = deadline - Date.now();
        if (left <= 0) throw timeoutError(name, state);
        this.markWanted(name);
        marked = true;
        await sleep(Math.min(left, delay * (0.5 + Math.random() * 0.5)), signal);
        delay = Math.min(MAX_DELAY_MS, delay * 2);
      }
    } finally {
      if (marked) {
        try {
          unlinkSync(this.layout.want(name));
        } catch {
          // Gone already, or another waiter's to refresh.
        }
      }
    }
  }

  /** Waits (at most one waiter's poll interval) until the process that marked `name` as wanted has taken it or stopped waiting. */
  private async yieldTo(name: string, path: string, signal: AbortSignal | undefined): Promise<void> {
    const until = Date.now() + YIELD_MS;
    while (Date.now() < until && this.wanted(name)) {
      try {
        if (statSync(path, { throwIfNoEntry: false }) !== undefined) return;
      } catch {
        return;
      }
      await sleep(FIRST_DELAY_MS, signal);
    }
  }

  /** Creates the lock file with O_EXCL; undefined when it exists. */
  private tryCreate(name: string, path: string): Held | undefined {
    const info: LockInfo = { pid: process.pid, hostname: HOST, createdAt: new Date().toISOString(), token: randomBytes(8).toString("hex") };
    const raw = JSON.stringify(info);
    let fd: number | undefined;
    try {
      // Synchronous on purpose: these calls take microseconds, far less than a thread-pool round trip.
      fd = openSync(path, "wx", FILE_MODE);
      // The umask must not narrow it: a lock file now outlives the operation and is seen like any other file.
      fchmodSync(fd, FILE_MODE);
      writeAll(fd, Buffer.from(raw, "utf8"));
      const st = fstatSync(fd);
      const everyMs = Math.max(5, Math.floor(this.timing.staleLockMs / 4));
      const fields = { name, path, fd, ino: st.ino, raw, since: Date.now(), generation: ++generations, unwantedAt: 0, trustedUntil: st.mtimeMs + this.trustMs(), idle: undefined };
      // Refreshed while in use and while leased, so a lease is as live to other processes as a lock in use.
      const held: Held = { ...fields, heartbeat: setInterval(() => this.refresh(held), everyMs) };
      held.heartbeat.unref();
      return held;
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
      return undefined;
    }
  }

  /**
   * Sets the file's mtime to now. Sent while the file was trusted ours (a
   * longer pause ends the trust: it may have been broken meanwhile), it
   * extends the trust once it lands.
   */
  private refresh(held: Held): void {
    const at = Date.now();
    const trusted = at < held.trustedUntil;
    const d = new Date(at);
    futimes(held.fd, d, d, (err) => {
      if (err === null && trusted) held.trustedUntil = Math.max(held.trustedUntil, at + this.trustMs());
    });
  }

  private release(held: Held): void {
    clearInterval(held.heartbeat);
    if (held.idle !== undefined) clearTimeout(held.idle);
    const path = held.path;
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
