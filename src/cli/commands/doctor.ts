import { existsSync } from "node:fs";
import { longestIdleMs } from "../../session/reset.js";
import { join } from "node:path";
import type { Command } from "commander";
import { redactStoreUri } from "../../config/redact.js";
import { locateSettings, storeOptions } from "../../manager/_open.js";
import { expiryCutoff } from "../../session/lifecycle.js";
import { unansweredToolCalls } from "../../session/tools.js";
import { inspectFiles, type FileProblem } from "../../store/file/_doctor.js";
import { fileStoreDir, openStore } from "../../store/open.js";
import { archiveOlderLive, findDoubleLive, type DoubleLive } from "../../store/live-repair.js";
import type { SessionStore } from "../../store/store.js";
import { keyMatchesScope } from "../../routing/scope.js";
import { globalFlags } from "../_context.js";
import { colors, plural, print, printJson, visible } from "../_render.js";

/** Flags of `openclaw doctor`. */
export interface DoctorFlags {
  fix?: boolean;
  json?: boolean;
}

/** One problem as doctor reports it. */
type Problem = FileProblem;

/**
 * `openclaw doctor`: reads every document and log of the store, reports each
 * problem with what to do, and with --fix restores what quarantine holds
 * that parses again, removes leftovers, rebuilds the index and archives all
 * but the most recently active live session of a key that has several.
 * Exit 1 while a problem remains.
 */
export async function runDoctor(flags: DoctorFlags, cmd: Command): Promise<void> {
  const g = globalFlags(cmd);
  const { config, location } = await locateSettings({
    ...(g.stateDir !== undefined ? { stateDir: g.stateDir } : {}),
    ...(g.config !== undefined ? { configPath: g.config } : {}),
    ...(g.store !== undefined ? { storeUri: g.store } : {}),
  });
  const where = location.store;
  const dir = fileStoreDir(where.uri);
  if (dir !== undefined && !existsSync(join(dir, "sessions"))) {
    report(flags, { store: redactStoreUri(where.uri), sessions: 0, prunedLogs: 0, quarantined: 0, problems: [] });
    return;
  }
  const opened: string[] = [];
  const store = await openStore(
    where.uri,
    storeOptions(config, (m) => opened.push(m)),
  );
  const fix = flags.fix === true;
  try {
    // What opening the store had to repair (a torn log tail, say) is reported as found.
    const problems: Problem[] = opened.map((m) => ({ file: m.split(":")[0] ?? "", problem: m.slice(m.indexOf(":") + 1).trim(), action: "nothing to do: the store repaired it when it opened", fixed: true }));
    let prunedLogs = 0;
    let quarantined = 0;
    if (dir !== undefined) {
      const files = await inspectFiles(join(dir, "sessions"), fix);
      problems.push(...files.problems);
      prunedLogs = files.prunedLogs;
      quarantined = files.quarantined;
    }
    const corrupt = new Set<string>();
    const check = await store.maintain({ dryRun: true });
    for (const name of check.quarantined) corrupt.add(name.replace(/\.json$/, ""));
    for (const name of check.quarantined)
      problems.push({
        file: `sessions/${name}`,
        problem: "corrupt: it does not parse as a session",
        action: "openclaw doctor --fix moves it to sessions/quarantine/; the other sessions are unaffected",
        ...(fix ? { fixed: true } : {}),
      });
    if (check.leftoversRemoved > 0) {
      problems.push({
        file: "sessions/",
        problem: `${plural(check.leftoversRemoved, "leftover")} of interrupted writes (temp files, stale locks)`,
        action: "openclaw doctor --fix removes them",
        ...(fix ? { fixed: true } : {}),
      });
    }
    if (fix) {
      await store.maintain();
      // The rebuild judges a message file by its size; a full read moves aside one the check found corrupt within it.
      for (const id of corrupt) await store.get(id);
    }
    const now = new Date();
    const cutoff = expiryCutoff(longestIdleMs(config.sessions), now);
    for (const double of await findDoubleLive(store, cutoff)) problems.push(await doubleLiveProblem(store, double, fix, now));
    const summaries = (await store.list({ expiryCutoff: cutoff })).items;
    const { dmScope, identityLinks } = config.sessions;
    const offScope = summaries.filter((s) => (s.status === "created" || s.status === "active") && !keyMatchesScope(s.key, dmScope, identityLinks));
    if (offScope.length > 0) {
      // Not fixed here: where they go (moved, merged, archived) is the operator's call.
      problems.push({
        file: `sessions.dmScope "${dmScope}"`,
        problem: `${plural(offScope.length, "live session")} keyed otherwise, where no message routes any more (${offScope
          .slice(0, 3)
          .map((s) => s.key)
          .join(", ")}${offScope.length > 3 ? ", …" : ""})`,
        action: "openclaw sessions rescope --dry-run shows how they would move, merge or be archived; without --dry-run it applies that",
      });
    }
    let read = 0;
    for (const s of summaries) {
      if (corrupt.has(s.id)) continue;
      const loaded = await store.get(s.id);
      if (loaded === undefined) continue;
      read += 1;
      const waiting = unansweredToolCalls(loaded.session.messages);
      if (waiting.length > 0) {
        problems.push({
          file: `session ${s.id}`,
          problem: `${plural(waiting.length, "tool call")} without a result (${waiting.map((c) => `${c.id} ${c.name}`).join(", ")})`,
          action: "record each result (sessions append --role tool --call-id ID), unless the call is still running",
        });
      }
    }
    report(flags, { store: redactStoreUri(where.uri), sessions: read, prunedLogs, quarantined, problems });
  } finally {
    await store.close();
  }
}

// A key with two live sessions takes its messages in one and shows the other nowhere: the most recently active stays live.
async function doubleLiveProblem(store: SessionStore, double: DoubleLive, fix: boolean, now: Date): Promise<Problem> {
  const older = double.older.map((s) => s.id);
  const problem = `${double.older.length + 1} live sessions (${[double.keep.id, ...older].join(", ")}), where a key has at most one`;
  const action = `openclaw doctor --fix archives ${older.join(", ")} and keeps ${double.keep.id}, the most recently active`;
  const file = `key ${double.key}`;
  if (!fix) return { file, problem, action };
  const archived = await archiveOlderLive(store, double, now);
  return { file, problem: `${problem}: archived ${archived.join(", ") || "none (changed meanwhile)"}, kept ${double.keep.id} (the most recently active)`, action, fixed: true };
}

interface DoctorReport {
  store: string;
  sessions: number;
  prunedLogs: number;
  quarantined: number;
  problems: Problem[];
}

function report(flags: DoctorFlags, r: DoctorReport): void {
  const open = r.problems.filter((p) => p.fixed !== true);
  if (open.length > 0) process.exitCode = 1;
  if (flags.json) {
    printJson({ ...r, remaining: open.length });
    return;
  }
  print(colors.dim(`checked ${plural(r.sessions, "session")}, ${plural(r.prunedLogs, "pruned-history log")} and ${plural(r.quarantined, "quarantined file")} in ${visible(r.store)}`));
  for (const p of r.problems) {
    const tag = p.fixed === true ? colors.green("fixed  ") : colors.yellow("problem");
    print(`${tag} ${visible(p.file)}: ${visible(p.problem)}`);
    if (p.fixed !== true) print(`        ${colors.dim("→")} ${visible(p.action)}`);
  }
  const fixed = r.problems.length - open.length;
  print(
    r.problems.length === 0
      ? "no problems found"
      : `${plural(r.problems.length, "problem")}${fixed > 0 ? ` (${fixed} fixed)` : ""}${open.length > 0 && flags.fix !== true ? "; openclaw doctor --fix repairs what it can" : ""}`,
  );
}
