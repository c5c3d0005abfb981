import { closeSync, constants, fsyncSync, openSync, writeSync } from "node:fs";
import { readFile, rm } from "node:fs/promises";
import { OpenclawError, storageError } from "../../errors.js";
import { checkKeyIds, type ContentCodec } from "../_crypto.js";
import { errnoOf, FILE_MODE, fsyncDir, writeAtomic } from "./_fs.js";
import type { Layout } from "./_paths.js";

/**
 * `sessions/encryption.json`: the ids of the keys the store's content is
 * sealed with. Checked when the store opens (before anything is created or
 * recovered) and once more before this instance's first write, which records
 * the key of a store that had none.
 */
export class KeyFile {
  private confirmed = false;

  constructor(
    private readonly layout: Layout,
    private readonly location: string,
    private readonly codec: ContentCodec,
    private readonly rekeying: boolean,
  ) {}

  /** The recorded ids; null when there is no record. */
  async read(): Promise<string[] | null> {
    let text: string;
    try {
      text = await readFile(this.layout.keys, "utf8");
    } catch (err) {
      if (errnoOf(err) === "ENOENT") return null;
      throw storageError("read", this.layout.keys, err);
    }
    try {
      const v = JSON.parse(text) as { keys?: unknown };
      if (Array.isArray(v.keys) && v.keys.every((k) => typeof k === "string")) return v.keys as string[];
    } catch {
      // Reported below.
    }
    throw new OpenclawError("STORAGE", `${this.layout.keys} is not a key record ({"version":1,"keys":["<key id>"]}): restore it from a backup; nothing was written`);
  }

  /** ENCRYPTION_KEY unless the codec's keys open everything the store records. */
  async check(): Promise<void> {
    checkKeyIds(this.location, await this.read(), this.codec.keyring, this.rekeying);
  }

  /** Before this instance's first write: checks again (another process may have encrypted the store since it opened) and records the key of a store that has none. */
  async beforeWrite(): Promise<void> {
    if (this.confirmed) return;
    const keyring = this.codec.keyring;
    if (keyring !== undefined && (await this.read()) === null && this.create([keyring.write.id])) await fsyncDir(this.layout.sessions);
    await this.check();
    this.confirmed = true;
  }

  /** Replaces the record atomically; an empty list removes it. */
  async write(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) {
      await rm(this.layout.keys, { force: true }).catch((err: unknown) => {
        throw storageError("delete", this.layout.keys, err);
      });
    } else {
      await writeAtomic(this.layout.keys, json(ids), "encryption");
    }
    this.confirmed = false;
  }

  /** Creates the record only if there is none (two first writers with different keys: one wins, the other's check fails); false when one existed. */
  private create(ids: readonly string[]): boolean {
    let fd: number;
    try {
      fd = openSync(this.layout.keys, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0), FILE_MODE);
    } catch (err) {
      if (errnoOf(err) === "EEXIST") return false;
      throw storageError("create", this.layout.keys, err);
    }
    try {
      writeSync(fd, json(ids));
      fsyncSync(fd);
    } catch (err) {
      throw storageError("write", this.layout.keys, err);
    } finally {
      closeSync(fd);
    }
    return true;
  }
}

const json = (ids: readonly string[]): string => `${JSON.stringify({ version: 1, keys: ids })}\n`;
