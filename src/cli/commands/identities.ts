import type { Command } from "commander";
import { editConfigFile } from "../../config/edit.js";
import { loadConfig, locateConfig } from "../../config/load.js";
import { missingConfig } from "../../config/locate.js";
import { linkIdentities, unlinkIdentities } from "../../routing/identities.js";
import { dmKeyFor, type IdentityLinks } from "../../routing/route.js";
import { globalFlags } from "../_context.js";
import type { JsonFlag } from "../_args.js";
import { colors, print, printJson, table, visible } from "../_render.js";

// The links live in config.json (sessions.identityLinks): these commands
// edit that file and never open the store. Processes already running (a
// gateway) keep the links they started with until restarted.

const RESCOPE_NOTE = "note: DM sessions keyed before this change keep their keys; openclaw sessions rescope --dry-run shows how they would move (restart a running gateway to route by the new links)\n";

function where(cmd: Command): { path: string } {
  const flags = globalFlags(cmd);
  const location = locateConfig({ ...(flags.stateDir !== undefined ? { stateDir: flags.stateDir } : {}), ...(flags.config !== undefined ? { config: flags.config } : {}) });
  const loaded = loadConfig(location.configPath);
  if (!loaded.fileExists && location.configPathSource !== "default") throw missingConfig(location);
  return { path: location.configPath };
}

function currentLinks(raw: Record<string, unknown>): IdentityLinks {
  const sessions = raw.sessions;
  const links = typeof sessions === "object" && sessions !== null ? (sessions as Record<string, unknown>).identityLinks : undefined;
  return (typeof links === "object" && links !== null ? links : {}) as IdentityLinks;
}

function setLinks(raw: Record<string, unknown>, links: IdentityLinks): void {
  const sessions = typeof raw.sessions === "object" && raw.sessions !== null ? (raw.sessions as Record<string, unknown>) : {};
  if (Object.keys(links).length === 0) delete sessions.identityLinks;
  else sessions.identityLinks = links;
  raw.sessions = sessions;
}

/** `openclaw identities list`: each person, their identities, and the DM key they share under the configured scope. */
export async function runIdentitiesList(flags: JsonFlag, cmd: Command): Promise<void> {
  const { path } = where(cmd);
  const { config } = loadConfig(path);
  const { dmScope, identityLinks } = config.sessions;
  const people = Object.entries(identityLinks).map(([person, identities]) => ({ person, identities, key: dmKeyFor(dmScope, "linked", person, "ACCOUNT", person).replace(":ACCOUNT:", ":<account>:") }));
  if (flags.json) {
    printJson({ scope: dmScope, people });
    return;
  }
  if (people.length === 0) {
    print(`no identities linked (sessions.identityLinks in ${visible(path)}); openclaw identities link PERSON CHANNEL:USER… links some`);
    return;
  }
  print(
    table(
      ["PERSON", "IDENTITIES", `DM KEY (${dmScope})`],
      people.map((p) => [visible(p.person), visible(p.identities.join(", ")), colors.cyan(visible(p.key))]),
    ),
  );
}

/** `openclaw identities link PERSON CHANNEL:USER…`. */
export async function runIdentitiesLink(person: string, identities: string[], flags: JsonFlag, cmd: Command): Promise<void> {
  const { path } = where(cmd);
  let added: string[] = [];
  await editConfigFile(path, (raw) => {
    const r = linkIdentities(currentLinks(raw), person, identities);
    added = r.added;
    setLinks(raw, r.links);
  });
  if (flags.json) printJson({ person, added });
  else print(added.length === 0 ? `${visible(person)}: already linked; nothing changed` : `linked ${visible(added.join(", "))} to ${visible(person)}`);
  if (added.length > 0) process.stderr.write(RESCOPE_NOTE);
}

/** `openclaw identities unlink CHANNEL:USER|PERSON…`. */
export async function runIdentitiesUnlink(targets: string[], flags: JsonFlag, cmd: Command): Promise<void> {
  const { path } = where(cmd);
  let removed: Array<{ person: string; identity: string }> = [];
  await editConfigFile(path, (raw) => {
    const r = unlinkIdentities(currentLinks(raw), targets);
    removed = r.removed;
    setLinks(raw, r.links);
  });
  if (flags.json) printJson({ removed });
  else for (const r of removed) print(`unlinked ${visible(r.identity)} from ${visible(r.person)}`);
  process.stderr.write(RESCOPE_NOTE);
}
