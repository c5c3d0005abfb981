import type { Command } from "commander";
import { redactStoreUri } from "../../config/redact.js";
import { OpenclawError } from "../../errors.js";
import { locateSettings, storeOptions } from "../../manager/_open.js";
import { Keyring, loadKey } from "../../store/encryption.js";
import { openStore } from "../../store/open.js";
import { rekeySessions, type RekeyReport } from "../../store/rekey.js";
import { globalFlags } from "../_context.js";
import { colors, plural, print, printJson, progress, visible, warn } from "../_render.js";

/** Flags of `openclaw store rekey`. */
export interface StoreRekeyFlags {
  newKeyEnv?: string;
  newKeyFile?: string;
  json?: boolean;
}

/**
 * `openclaw store rekey`: re-encrypts every session of the configured store
 * with a new key (the configured key, if any, opens the old content; a
 * plain store becomes encrypted). Run it again after an interruption; then
 * point storage.encryption at the new key.
 */
export async function runStoreRekey(flags: StoreRekeyFlags, cmd: Command): Promise<void> {
  if ((flags.newKeyEnv === undefined) === (flags.newKeyFile === undefined)) {
    throw new OpenclawError("INVALID_ARGUMENT", "give the new key with exactly one of --new-key-env NAME or --new-key-file PATH");
  }
  const g = globalFlags(cmd);
  const { config, location } = await locateSettings({
    ...(g.stateDir !== undefined ? { stateDir: g.stateDir } : {}),
    ...(g.config !== undefined ? { configPath: g.config } : {}),
    ...(g.store !== undefined ? { storeUri: g.store } : {}),
  });
  const fresh = loadKey({ keyEnv: flags.newKeyEnv, keyFile: flags.newKeyFile }, flags.newKeyEnv !== undefined ? "--new-key-env" : "--new-key-file");
  const options = storeOptions(config, warn);
  const old = options.keyring;
  const keyring = new Keyring(fresh, old === undefined ? [] : [old.write]);
  const store = await openStore(location.store.uri, { ...options, keyring, rekeying: true });
  const bar = progress("re-encrypting");
  let report: RekeyReport;
  try {
    report = await rekeySessions(store, fresh.id, (done, total) => bar.update(done, total));
  } finally {
    bar.finish();
    await store.close();
  }
  const name = redactStoreUri(location.store.uri);
  if (flags.json) {
    printJson({ store: name, ...report });
    return;
  }
  print(`re-encrypted ${plural(report.sessions, "session")} and ${plural(report.prunedMessages, "pruned message")} of ${visible(name)} with key ${report.after[0] ?? ""}`);
  const setting = flags.newKeyEnv !== undefined ? `{"keyEnv": "${flags.newKeyEnv}"}` : `{"keyFile": "${flags.newKeyFile ?? ""}"}`;
  if (old?.write.id !== fresh.id) print(colors.yellow(`now set storage.encryption to ${setting}: the old key no longer opens this store`));
}
