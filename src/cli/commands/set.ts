import type { Command } from "commander";
import type { JsonValue, ToolPolicy } from "../../session/types.js";
import { withManager } from "../_context.js";
import { colors, print, printJson, visible } from "../_render.js";
import { UsageError } from "../_usage.js";

/** Flags of `sessions set`. */
export interface SetFlags {
  pref?: string[];
  unsetPref?: string[];
  allowTool?: string[];
  denyTool?: string[];
  removeAllow?: string[];
  removeDeny?: string[];
  resetTools?: boolean;
  system?: string;
  /** Names the session; "" removes the label. */
  label?: string;
  json?: boolean;
}

/** `openclaw sessions set`. */
export async function runSet(ref: string, flags: SetFlags, cmd: Command): Promise<void> {
  const set = parsePrefs(flags.pref ?? []);
  const unset = flags.unsetPref ?? [];
  const allow = flags.allowTool ?? [];
  const deny = flags.denyTool ?? [];
  const removeAllow = flags.removeAllow ?? [];
  const removeDeny = flags.removeDeny ?? [];
  const reset = flags.resetTools === true;
  const toolEdits = allow.length + deny.length + removeAllow.length + removeDeny.length;
  if (Object.keys(set).length === 0 && unset.length === 0 && toolEdits === 0 && !reset && flags.system === undefined && flags.label === undefined) {
    throw new UsageError("nothing to change: give --pref, --unset-pref, --allow-tool, --deny-tool, --remove-allow, --remove-deny, --reset-tools, --system or --label");
  }
  if (reset && toolEdits > 0) throw new UsageError("--reset-tools cannot be combined with --allow-tool, --deny-tool, --remove-allow or --remove-deny");
  for (const p of removeAllow) if (allow.includes(p)) throw new UsageError(`tool pattern ${p} is both allowed and removed from the allow list`);
  for (const p of removeDeny) if (deny.includes(p)) throw new UsageError(`tool pattern ${p} is both denied and removed from the deny list`);
  for (const key of unset) if (key in set) throw new UsageError(`preference ${key} is both set and unset`);
  for (const p of allow) if (deny.includes(p)) throw new UsageError(`tool pattern ${p} is both allowed and denied`);
  let notSet: string[] = [];
  const session = await withManager(cmd, async (m) => {
    // The tool default is per kind and an unset key may be absent, so the session is read first; edit() then applies the difference in one save.
    const current = reset || unset.length > 0 ? await m.get(ref) : undefined;
    notSet = current === undefined ? [] : unset.filter((k) => !Object.hasOwn(current.preferences, k));
    const tools = reset && current !== undefined ? resetEdit(m.defaultTools(current.kind), current.tools) : { allow, deny, removeAllow, removeDeny };
    return m.edit(ref, { set, unset, ...tools, ...(flags.system !== undefined ? { system: flags.system } : {}), ...(flags.label !== undefined ? { label: flags.label } : {}) });
  });
  if (flags.json) {
    printJson({ id: session.id, key: session.key, label: session.label ?? null, preferences: session.preferences, tools: session.tools, systemPrompts: session.systemPrompts, notSet });
    return;
  }
  const changes: string[] = [];
  if (Object.keys(set).length > 0)
    changes.push(
      `set ${Object.entries(set)
        .map(([k, v]) => `${visible(k)}=${visible(JSON.stringify(v))}`)
        .join(", ")}`,
    );
  const removed = unset.filter((k) => !notSet.includes(k));
  if (removed.length > 0) changes.push(`unset ${visible(removed.join(", "))}`);
  if (notSet.length > 0) changes.push(`${visible(notSet.join(", "))} ${notSet.length === 1 ? "was" : "were"} not set`);
  if (allow.length > 0) changes.push(`allowed ${visible(allow.join(", "))}`);
  if (deny.length > 0) changes.push(`denied ${visible(deny.join(", "))}`);
  if (removeAllow.length > 0) changes.push(`removed from allow ${visible(removeAllow.join(", "))}`);
  if (removeDeny.length > 0) changes.push(`removed from deny ${visible(removeDeny.join(", "))}`);
  if (reset) changes.push(`reset tools to the ${visible(session.kind)} default`);
  if (flags.system !== undefined) changes.push(flags.system === "" ? "removed the system prompt" : "replaced the system prompt");
  if (flags.label !== undefined) changes.push(flags.label === "" ? "removed the label" : `labelled ${visible(JSON.stringify(flags.label))}`);
  print(`updated ${visible(session.id)} ${colors.cyan(visible(session.key))}: ${changes.join("; ")}`);
}

/** The tool edit that turns `current` into `defaults`: drop what the default lacks, add what it has. */
export function resetEdit(defaults: ToolPolicy, current: ToolPolicy): { allow: string[]; deny: string[]; removeAllow: string[]; removeDeny: string[] } {
  return {
    allow: [...defaults.allow],
    deny: [...defaults.deny],
    removeAllow: current.allow.filter((p) => !defaults.allow.includes(p)),
    removeDeny: current.deny.filter((p) => !defaults.deny.includes(p)),
  };
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
    // A number JSON would give back differently (1e999, 1.10, an integer past 2^53) is kept as typed.
    return typeof value === "number" && JSON.stringify(value) !== text.trim() ? text : value;
  } catch {
    return text;
  }
}
