import type { Command } from "commander";
import { longestIdleMs } from "../../session/reset.js";
import { redactStoreUri } from "../../config/redact.js";
import { OpenclawError } from "../../errors.js";
import { locateSettings, storeOptions } from "../../manager/_open.js";
import { clashPolicy } from "../../session/live-keys.js";
import { copySessions, type CopyReport } from "../../store/copy.js";
import { Keyring, loadKey } from "../../store/encryption.js";
import { openStore, type OpenStoreOptions } from "../../store/open.js";
import type { SessionStore } from "../../store/store.js";
import { globalFlags } from "../_context.js";
import { colors, plural, print, printJson, progress, visible, warn } from "../_render.js";

/** Flags of `openclaw store copy`. */
export interface StoreCopyFlags {
  from: string;
  to: string;
  dryRun?: boolean;
  skipExisting?: boolean;
  asArchived?: boolean;
  replaceLive?: boolean;
  json?: boolean;
  fromKeyEnv?: string;
  fromKeyFile?: string;
  toKeyEnv?: string;
  toKeyFile?: string;
  toPlain?: boolean;
}

/**
 * `openclaw store copy`: every session and its pruned history from one store
 * to another, then a read-back check. Exit 1 when a session could not be
 * written or read back the same.
 */
export async function runStoreCopy(flags: StoreCopyFlags, cmd: Command): Promise<void> {
  if (sameStore(flags.from, flags.to)) throw new OpenclawError("INVALID_ARGUMENT", "--from and --to name the same store: nothing to copy");
  const clashes = clashPolicy(flags);
  const g = globalFlags(cmd);
  const { config } = await locateSettings({ ...(g.stateDir !== undefined ? { stateDir: g.stateDir } : {}), ...(g.config !== undefined ? { configPath: g.config } : {}) });
  const options = storeOptions(config, warn);
  // Each side opens with storage.encryption's key unless told otherwise, so a copy can encrypt or decrypt a store.
  const from = await openStore(flags.from, withKey(options, flags.fromKeyEnv, flags.fromKeyFile, "--from-key"));
  let to: SessionStore | undefined;
  let report: CopyReport;
  const bar = progress(flags.dryRun ? "checking" : "copying");
  try {
    to = await openStore(flags.to, flags.toPlain ? withKey(options, undefined, undefined, "", true) : withKey(options, flags.toKeyEnv, flags.toKeyFile, "--to-key"));
    report = await copySessions(from, to, {
      ...(flags.dryRun ? { dryRun: true } : {}),
      skipExisting: flags.skipExisting === true,
      clashes,
      expirationMs: longestIdleMs(config.sessions),
      onProgress: (done, total) => bar.update(done, total),
    });
  } finally {
    bar.finish();
    await Promise.allSettled([from.close(), to?.close()]);
  }
  const names = { from: redactStoreUri(flags.from), to: redactStoreUri(flags.to) };
  const bad = report.failed.length + (report.verified?.mismatched.length ?? 0);
  if (flags.json) printJson({ ...names, dryRun: flags.dryRun === true, ...report });
  else printReport(report, names, flags.dryRun === true);
  if (bad > 0) process.exitCode = 1;
}

function withKey(options: OpenStoreOptions, keyEnv: string | undefined, keyFile: string | undefined, flag: string, plain = false): OpenStoreOptions {
  const { keyring: _configured, ...rest } = options;
  if (plain) return rest;
  if (keyEnv === undefined && keyFile === undefined) return options;
  if (keyEnv !== undefined && keyFile !== undefined) throw new OpenclawError("INVALID_ARGUMENT", `give ${flag}-env or ${flag}-file, not both`);
  return { ...rest, keyring: new Keyring(loadKey({ keyEnv, keyFile }, keyEnv !== undefined ? `${flag}-env` : `${flag}-file`)) };
}

function printReport(r: CopyReport, names: { from: string; to: string }, dryRun: boolean): void {
  for (const f of r.failed) print(`${colors.red("failed")} ${visible(f.id)}: ${visible(f.error)}`);
  for (const id of r.verified?.mismatched ?? []) print(`${colors.red("differs after copy")} ${visible(id)}`);
  const would = dryRun ? "would be " : "";
  for (const a of r.archivedLive) print(`${would}archived ${visible(a.id)} ${colors.cyan(visible(a.key))} in the target (${visible(a.replacedBy)} is live for the key now)`);
  for (const a of r.importedArchived) print(`${would}copied ${visible(a.id)} ${colors.cyan(visible(a.key))} archived (${visible(a.live)} is live for the key)`);
  const verb = dryRun ? "would copy" : "copied";
  const parts = [`${r.created} new`, `${r.updated} updated`, `${r.unchanged} unchanged`];
  if (r.vanished > 0) parts.push(`${r.vanished} deleted from the source meanwhile`);
  if (r.failed.length > 0) parts.push(`${r.failed.length} failed`);
  if (r.skipped > 0) parts.push(`${r.skipped} already in the target, skipped`);
  print(`${verb} ${plural(r.total, "session")} from ${visible(names.from)} to ${visible(names.to)} (${parts.join(", ")})`);
  if (r.onlyInTarget > 0) print(colors.dim(`${plural(r.onlyInTarget, "session")} only in the target, left alone`));
  if (r.verified !== undefined) {
    const v = r.verified;
    const state = v.mismatched.length === 0 ? "all match" : `${v.mismatched.length} differ`;
    print(colors.dim(`verified ${plural(v.sessions, "session")} in the target: ${state}; checksum ${v.checksum.slice(0, 16)}`));
  }
}

// Plain paths and file: URIs of one directory are the same store.
function sameStore(a: string, b: string): boolean {
  const norm = (u: string) => (/^file:(?!\/\/)/i.test(u) ? u.slice("file:".length) : u).replace(/\/+$/, "");
  return norm(a) === norm(b);
}
