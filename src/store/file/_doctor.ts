import { lstat, readdir, readFile, rename } from "node:fs/promises";
import { basename, join } from "node:path";
import { parseStoredSession } from "../../session/schema.js";
import { isMessage } from "./_pruned.js";

/** One thing wrong in a file store, and what to do about it. */
export interface FileProblem {
  /** Path under the state directory, e.g. `sessions/quarantine/<id>.json`. */
  file: string;
  problem: string;
  action: string;
  /** True once `--fix` dealt with it. */
  fixed?: boolean;
}

/** What {@link inspectFiles} looked at and found. */
export interface FileInspection {
  quarantined: number;
  prunedLogs: number;
  problems: FileProblem[];
}

const ID_FILE = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.json(?:\..+)?$/;
/** A quarantined header's message file: `<the header's quarantine name>.<gen>.jsonl`. */
const COMPANION = /^(.+\.json(?:\.[^.]+)?)\.(\d+)\.jsonl$/;
const PRUNED_FILE = /^[0-9a-f-]{36}\.pruned\.jsonl$/;

async function list(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
}

// Why a quarantined file still cannot be a session, or null when it now can;
// a header is read with its message file (`<path>.<gen>.jsonl`), whose generation `gen` receives.
async function unusable(path: string, gen: { value?: number }): Promise<string | null> {
  let value: unknown;
  try {
    value = JSON.parse(await readFile(path, "utf8"));
  } catch {
    return "is not valid JSON";
  }
  if (typeof value === "object" && value !== null && "messageFile" in value && !("messages" in value)) {
    const { messageFile, ...header } = value as { messageFile: { gen?: unknown; bytes?: unknown } };
    const g = messageFile.gen;
    const bytes = messageFile.bytes;
    if (typeof g !== "number" || typeof bytes !== "number") return "has an invalid messageFile";
    gen.value = g;
    let lines: string[] = [];
    if (bytes > 0) {
      let text: string;
      try {
        text = (await readFile(`${path}.${g}.jsonl`)).subarray(0, bytes).toString("utf8");
      } catch {
        return `has lost its message file ${basename(path)}.${g}.jsonl`;
      }
      lines = text.split("\n").slice(0, -1);
    }
    try {
      value = { ...header, messages: lines.map((l) => JSON.parse(l) as unknown) };
    } catch {
      return "has a message file that is not JSON lines";
    }
  }
  const parsed = parseStoredSession(value);
  if (!parsed.success) return `is not a valid session (${parsed.error.issues[0]?.path.join(".") || "document"}: ${parsed.error.issues[0]?.message ?? "invalid"})`;
  return null;
}

/**
 * Reads what the store's own checks do not: files in quarantine (whether
 * each could be restored now) and every pruned-history log line. With
 * `fix`, a quarantined file that now parses and has no live copy is moved
 * back (the caller then rebuilds the index).
 */
export async function inspectFiles(sessionsDir: string, fix: boolean): Promise<FileInspection> {
  const problems: FileProblem[] = [];
  const quarantineDir = join(sessionsDir, "quarantine");
  const quarantined = await list(quarantineDir);
  const names = new Set(quarantined);
  for (const name of quarantined) {
    const file = `sessions/quarantine/${name}`;
    const companion = COMPANION.exec(name);
    if (companion !== null) {
      // Dealt with beside its header; one whose header is gone is reported on its own.
      if (!names.has(companion[1] as string)) problems.push({ file, problem: "quarantined message file without its header", action: "delete it, or restore it by hand with a header naming it" });
      continue;
    }
    const id = ID_FILE.exec(name)?.[1];
    const gen: { value?: number } = {};
    const why = await unusable(join(quarantineDir, name), gen);
    if (id === undefined || why !== null) {
      problems.push({ file, problem: `quarantined: ${why ?? "not named like a session"}`, action: "repair it by hand and run openclaw doctor --fix to restore it, or delete it" });
      continue;
    }
    const live = join(sessionsDir, `${id}.json`);
    if ((await lstat(live).catch(() => undefined)) !== undefined) {
      problems.push({ file, problem: "quarantined; a live copy of this session exists", action: "compare the two and delete the one you do not need" });
      continue;
    }
    const problem: FileProblem = { file, problem: "quarantined, and it parses now", action: "openclaw doctor --fix restores it" };
    if (fix) {
      // The message file first: a header is never back before what it names.
      if (gen.value !== undefined) await rename(join(quarantineDir, `${name}.${gen.value}.jsonl`), join(sessionsDir, `${id}.${gen.value}.jsonl`)).catch(() => undefined);
      await rename(join(quarantineDir, name), live);
      problem.fixed = true;
    }
    problems.push(problem);
  }
  const logs = (await list(sessionsDir)).filter((n) => PRUNED_FILE.test(n));
  for (const name of logs) {
    const lines = (await readFile(join(sessionsDir, name), "utf8")).split("\n");
    lines.forEach((line, i) => {
      // An unterminated last line is an append in progress or an interrupted one, which the next append removes (see appendPrunedLog).
      if (line.trim() === "" || i === lines.length - 1) return;
      if (!isMessage(line))
        problems.push({ file: `sessions/${name}`, problem: `line ${i + 1} is not a valid message (an interrupted write?)`, action: "nothing to do: reads skip it; export the session to keep the rest" });
    });
  }
  return { quarantined: quarantined.filter((n) => COMPANION.exec(n) === null).length, prunedLogs: logs.length, problems };
}
