import { randomBytes } from "node:crypto";
import { open, rename, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { OpenclawError } from "../errors.js";

/**
 * Writes a file atomically with mode 0600: a temp file in the same directory,
 * flushed, then renamed over the target, so a crash or a full disk never
 * leaves a half-written backup under the real name.
 */
export async function writeFileAtomic(path: string, text: string): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
  try {
    const handle = await open(temp, "wx", 0o600);
    try {
      await handle.writeFile(text, "utf8");
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw new OpenclawError("STORAGE", `cannot write ${path}: ${ioReason(err)}`, { cause: err, userError: false });
  }
}

/** A one-line reason for a failed file operation, from its error code. */
export function ioReason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  switch (code) {
    case "ENOENT":
      return "no such file or directory";
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "EISDIR":
      return "it is a directory";
    case "ENOSPC":
      return "no space left on device";
    default:
      return code ?? (err instanceof Error ? err.message : String(err));
  }
}
