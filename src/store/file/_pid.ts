import { errnoOf } from "./_fs.js";

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
