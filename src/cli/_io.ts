import { readFile } from "node:fs/promises";
import { ioReason } from "../config/files.js";
import { OpenclawError } from "../errors.js";

export { writeFileAtomic } from "../config/files.js";

/** Reads all of stdin as UTF-8 text. */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString("utf8");
}

/** Reads a file the operator named, or stdin for `-`, turning I/O failures into one-line errors. */
export async function readInput(path: string): Promise<{ text: string; label: string }> {
  if (path === "-") return { text: await readStdin(), label: "stdin" };
  try {
    return { text: await readFile(path, "utf8"), label: path };
  } catch (err) {
    throw new OpenclawError("INVALID_ARGUMENT", `cannot read ${path}: ${ioReason(err)}`, { cause: err });
  }
}

/**
 * Asks a yes/no question on the terminal; true only for "y" or "yes". Off a
 * terminal (a script, a pipe) nothing is asked and the answer is yes, so
 * automation never hangs on a prompt it cannot see.
 */
export async function confirm(question: string): Promise<boolean> {
  if (process.stdin.isTTY !== true || process.stderr.isTTY !== true) return true;
  const { createInterface } = await import("node:readline/promises");
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`${question} [y/N] `);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

/** The error for a declined confirmation: nothing was done, and how to skip the question. */
export function declined(what: string): OpenclawError {
  return new OpenclawError("ABORTED", `not confirmed; ${what} (give --yes to skip this question)`);
}
