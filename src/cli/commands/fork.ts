import type { Command } from "commander";
import { withManager } from "../_context.js";
import { colors, plural, print, printJson, visible } from "../_render.js";

/** Flags of `sessions fork`. */
export interface ForkFlags {
  at?: string;
  key?: string;
  json?: boolean;
}

/** `openclaw sessions fork`: a new session from another's history; the original is only read. */
export async function runFork(ref: string, flags: ForkFlags, cmd: Command): Promise<void> {
  const r = await withManager(cmd, (m) => m.fork(ref, { ...(flags.at !== undefined ? { at: flags.at } : {}), ...(flags.key !== undefined ? { key: flags.key } : {}) }));
  if (flags.json) {
    printJson({ id: r.session.id, key: r.session.key, from: r.from, messages: r.messages, pruned: r.pruned, summary: r.session.summary !== null });
    return;
  }
  const kept = [plural(r.messages, "message")];
  if (r.pruned > 0) kept.push(`${plural(r.pruned, "message")} of pruned history`);
  if (r.session.summary !== null) kept.push("the summary");
  print(`forked ${visible(r.session.id)} ${colors.cyan(visible(r.session.key))} from ${visible(r.from)}: ${kept.join(", ")}, preferences, tools and system prompts`);
}
