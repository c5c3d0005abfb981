import { closeSync, fchmodSync, openSync, statSync, utimesSync } from "node:fs";
import { errnoOf, FILE_MODE } from "./_fs.js";

/** A waiter refreshes its markers at every poll (at most 50 ms apart); an older marker is a waiter that left. */
const WANT_FRESH_MS = 1_000;

/** True when a waiter's marker at `path` was refreshed within WANT_FRESH_MS. */
export function fresh(path: string, now: number): boolean {
  try {
    const st = statSync(path, { throwIfNoEntry: false });
    return st !== undefined && now - st.mtimeMs < WANT_FRESH_MS;
  } catch {
    return false;
  }
}

/** Sets a waiter's marker's time to now, creating it when missing; only a hint, so failures are ignored. */
export function touch(path: string): void {
  try {
    const now = new Date();
    utimesSync(path, now, now);
  } catch (err) {
    if (errnoOf(err) !== "ENOENT") return;
    try {
      const fd = openSync(path, "a", FILE_MODE);
      fchmodSync(fd, FILE_MODE);
      closeSync(fd);
    } catch {
      // Without it the holder still gives the lock back when its lease ends (2 s at most).
    }
  }
}
