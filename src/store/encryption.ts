import { closeSync, constants, fstatSync, openSync, readFileSync } from "node:fs";
import { isAbsolute } from "node:path";
import { OpenclawError } from "../errors.js";
import { Keyring, parseKey, type Key } from "./_crypto.js";

export { Keyring, type Key } from "./_crypto.js";

/** Where a store key comes from: the name of an environment variable, or a file (mode 0600) holding it. */
export interface KeySource {
  keyEnv?: string | undefined;
  keyFile?: string | undefined;
}

/**
 * Reads a 32-byte key (base64 or hex) from an environment variable or a
 * file. A file readable or writable by anyone but its owner is refused, as
 * is a missing variable: ENCRYPTION_KEY, one line saying what to do.
 * `what` names the setting or flag in the message.
 */
export function loadKey(source: KeySource, what = "storage.encryption", env: NodeJS.ProcessEnv = process.env): Key {
  if ((source.keyEnv === undefined) === (source.keyFile === undefined)) {
    throw new OpenclawError("ENCRYPTION_KEY", `${what}: give exactly one of keyEnv (an environment variable name) or keyFile (an absolute path)`);
  }
  if (source.keyEnv !== undefined) {
    const value = env[source.keyEnv];
    if (value === undefined || value.trim() === "") {
      throw new OpenclawError("ENCRYPTION_KEY", `${what}: the environment variable ${source.keyEnv} holding the store key is not set; nothing was read or written`);
    }
    return parseKey(value, `the key in ${source.keyEnv}`);
  }
  const path = source.keyFile as string;
  if (!isAbsolute(path)) throw new OpenclawError("ENCRYPTION_KEY", `${what}: keyFile must be an absolute path, got ${JSON.stringify(path)}`);
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new OpenclawError("ENCRYPTION_KEY", `${what}: cannot read the key file ${path} (${code}); nothing was read or written`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new OpenclawError("ENCRYPTION_KEY", `${what}: the key file ${path} is not a regular file`);
    if ((st.mode & 0o077) !== 0) {
      const mode = (st.mode & 0o777).toString(8).padStart(4, "0");
      throw new OpenclawError("ENCRYPTION_KEY", `${what}: the key file ${path} is open to other users (mode ${mode}); run chmod 600 ${path} and retry`);
    }
    return parseKey(readFileSync(fd, "utf8"), `the key in ${path}`);
  } finally {
    closeSync(fd);
  }
}

/** The keyring of `storage.encryption`; undefined when encryption is off. */
export function loadKeyring(settings: KeySource | undefined, env: NodeJS.ProcessEnv = process.env): Keyring | undefined {
  return settings === undefined ? undefined : new Keyring(loadKey(settings, "storage.encryption", env));
}
