import type { Command } from "commander";
import { withManager } from "../_context.js";
import { colors, plural, print, printJson, visible } from "../_render.js";
import { UsageError } from "../_usage.js";

/** The flags of `sessions compact` that `--now` reads (declared here so the two modules do not import each other). */
export interface CompactNowFlags {
  dryRun?: boolean;
  json?: boolean;
  now?: boolean;
  focus?: string;
  keep?: string;
}

/** What `sessions compact <ref> --now --json` prints. */
export interface FoldNowReport {
  id: string;
  key: string;
  folded: number;
  summarizer: string | null;
  error: string | null;
  messageCount: number;
  summaryTokens: number | null;
  focus: string | null;
}

/** `openclaw sessions compact <ref> --now [--focus TEXT]`: folds one session on demand, even under the limits. */
export async function runCompactNow(refs: string[], flags: CompactNowFlags, cmd: Command): Promise<void> {
  if (!flags.now) throw new UsageError(`${flags.keep !== undefined ? "--keep" : "--focus"} only applies with --now`);
  if (refs.length !== 1) throw new UsageError(`--now folds one session: give exactly one session ref (${refs.length === 0 ? "none" : refs.length} given)`);
  if (flags.dryRun) throw new UsageError("--now and --dry-run cannot be used together");
  const ref = refs[0] ?? "";
  const focus = flags.focus !== undefined && flags.focus.trim() !== "" ? flags.focus : undefined;
  const keep = flags.keep === undefined ? undefined : Number(flags.keep);
  if (keep !== undefined && (!/^\d+$/.test(flags.keep ?? "") || !Number.isSafeInteger(keep))) throw new UsageError(`--keep takes a whole number of messages, got ${JSON.stringify(flags.keep)}`);
  const outcome = await withManager(cmd, (m) => m.foldNow(ref, { ...(focus !== undefined ? { focus } : {}), ...(keep !== undefined ? { keep } : {}) }));
  const s = outcome.session;
  const report: FoldNowReport = {
    id: s.id,
    key: s.key,
    folded: outcome.folded,
    summarizer: outcome.summarizer,
    error: outcome.error,
    messageCount: s.messages.length,
    summaryTokens: s.summary?.tokens ?? null,
    focus: focus ?? null,
  };
  if (flags.json) {
    printJson(report);
    return;
  }
  const head = `${visible(s.id)} ${colors.cyan(visible(s.key))}:`;
  if (outcome.folded > 0) {
    print(`${head} folded ${plural(outcome.folded, "message")} into the summary (${visible(outcome.summarizer ?? "unknown summarizer")}); ${plural(report.messageCount, "message")} left`);
  } else {
    print(`${head} nothing folded${outcome.error === null ? colors.dim(" (no whole turn to fold before the latest)") : ""}`);
  }
  if (outcome.error !== null) print(colors.red(`summarizer: ${visible(outcome.error)}`));
}
