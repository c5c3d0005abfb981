import type { Command } from "commander";
import type { JsonValue } from "../../session/types.js";
import { withManager } from "../_context.js";
import { colors, print, printJson, visible } from "../_render.js";
import { UsageError } from "../_usage.js";

/** Flags of `sessions set`. */
export interface SetFlags {
  pref?: string[];
  unsetPref?: string[];
  allowTool?: string[];
  denyTool?: string[];
  system?: string;
  json?: boolean;
}

/** `openclaw sessions set`. */
export async function runSet(ref: string, flags: SetFlags, cmd: Command): Promise<void> {
  const set = parsePrefs(flags.pref ?? []);
  const unset = flags.unsetPref ?? [];
  const allow = flags.allowTool ?? [];
  const deny = flags.denyTool ?? [];
  if (Object.keys(set).length === 0 && unset.length === 0 && allow.length === 0 && deny.length === 0 && flags.system === undefined) {
    throw new UsageError("nothing to change: give --pref, --unset-pref, --allow-tool, --deny-tool or --system");
  }
  for (const key of unset) if (key in set) throw new UsageError(`preference ${key} is both set and unset`);
  for (const p of allow) if (deny.includes(p)) throw new UsageError(`tool pattern ${p} is both allowed and denied`);
  const session = await withManager(cmd, (m) =>
    m.edit(ref, { set, unset, allow, deny, ...(flags.system !== undefined ? { system: flags.system } : {}) }),
  );
  if (flags.json) {
    printJson({ id: session.id, key: session.key, preferences: session.preferences, tools: session.tools, systemPrompts: session.systemPrompts });
    return;
  }
  const changes: string[] = [];
  if (Object.keys(set).length > 0) changes.push(`set ${Object.entries(set).map(([k, v]) => `${visible(k)}=${visible(JSON.stringify(v))}`).join(", ")}`);
  if (unset.length > 0) changes.push(`unset ${visible(unset.join(", "))}`);
  if (allow.length > 0) changes.push(`allowed ${visible(allow.join(", "))}`);
  if (deny.length > 0) changes.push(`denied ${visible(deny.join(", "))}`);
  if (flags.system !== undefined) changes.push(flags.system === "" ? "removed the system prompt" : "replaced the system prompt");
  print(`updated ${visible(session.id)} ${colors.cyan(visible(session.key))}: ${changes.join("; ")}`);
}

/** Parses `KEY=VALUE` pairs; VALUE is JSON when it parses as JSON, else kept as text. */
export function parsePrefs(pairs: readonly string[]): Record<string, JsonValue> {
  const out: Record<string, JsonValue> = {};
  for (const pair of pairs) {
    const at = pair.indexOf("=");
    if (at <= 0) throw new UsageError(`--pref expects KEY=VALUE, got ${JSON.stringify(pair)}`);
    out[pair.slice(0, at)] = parseValue(pair.slice(at + 1));
  }
  return out;
}

function parseValue(text: string): JsonValue {
  try {
    const value = JSON.parse(text) as JsonValue;
    // 1e999 parses to Infinity, which JSON cannot store; keep what was typed.
    return typeof value === "number" && !Number.isFinite(value) ? text : value;
  } catch {
    return text;
  }
}
