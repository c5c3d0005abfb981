import { mkdir, readFile } from "node:fs/promises";
import { dirname } from "node:path";
import { OpenclawError } from "../errors.js";
import { writeFileAtomic } from "./files.js";
import { parseConfig } from "./load.js";

/**
 * Changes a config file in place: reads its JSON (an absent file is `{}`),
 * lets `change` edit it, checks the result as `config validate` would, and
 * writes it atomically with mode 0600 (a temp file renamed over the old
 * one). An invalid result throws the validation error and writes nothing.
 * Keys the change does not touch are kept as written.
 */
export async function editConfigFile(path: string, change: (raw: Record<string, unknown>) => void): Promise<void> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw new OpenclawError("CONFIG_INVALID", `${path}: cannot read config file (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    text = "{}";
  }
  // Validated first: a file that is already broken is reported, not rewritten.
  parseConfig(text, path);
  const raw = (text.trim() === "" ? {} : JSON.parse(text)) as Record<string, unknown>;
  change(raw);
  const next = `${JSON.stringify(raw, null, 2)}\n`;
  parseConfig(next, path);
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFileAtomic(path, next);
}
