// Writes the reference part of docs/cli.md from the CLI's own help: every
// command, its options and its examples, as `openclaw <command> --help`
// prints them. `--check` changes nothing and exits 1 when the file is stale.
// Usage: node --import tsx scripts/cli-docs.ts [--check]
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Command } from "commander";
import { buildProgram } from "../src/cli/_program.js";

/** The file whose reference part this script writes. */
export const CLI_MD = fileURLToPath(new URL("../docs/cli.md", import.meta.url));

/** Marks the start of the generated part. */
export const START = "<!-- reference:start: written by scripts/cli-docs.ts from the commands' --help; edit the commands, not this part -->";
/** Marks its end. */
export const END = "<!-- reference:end -->";

// Wide enough for the examples, narrow enough to read on a phone in a code block.
const HELP_WIDTH = 100;

function pathOf(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c !== null; c = c.parent) names.unshift(c.name());
  return names.join(" ");
}

/** What `<command> --help` prints, at a fixed width and without colour. */
function helpOf(cmd: Command): string {
  let out = "";
  cmd.configureOutput({ writeOut: (s) => void (out += s), getOutHelpWidth: () => HELP_WIDTH, getOutHasColors: () => false });
  cmd.outputHelp();
  return out.replace(/[ \t]+$/gm, "").trimEnd();
}

/** The generated reference: one section per command, depth first, in the order `--help` lists them. */
export function reference(): string {
  const sections: string[] = [];
  const visit = (cmd: Command): void => {
    const path = pathOf(cmd);
    sections.push(`### \`${path}\`\n\n\`\`\`text\n${helpOf(cmd)}\n\`\`\``);
    for (const sub of cmd.commands) visit(sub);
  };
  visit(buildProgram());
  return `${START}\n\n${sections.join("\n\n")}\n\n${END}`;
}

/** `doc` with its reference part replaced by the current one. */
export function withReference(doc: string): string {
  const from = doc.indexOf(START);
  const to = doc.indexOf(END);
  if (from < 0 || to < from) throw new Error(`docs/cli.md has no ${START} … ${END} part to write`);
  return doc.slice(0, from) + reference() + doc.slice(to + END.length);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const doc = readFileSync(CLI_MD, "utf8");
  const next = withReference(doc);
  if (process.argv.includes("--check")) {
    if (next !== doc) {
      console.error("docs/cli.md is stale: run node --import tsx scripts/cli-docs.ts");
      process.exit(1);
    }
  } else if (next !== doc) {
    writeFileSync(CLI_MD, next);
    console.log("wrote docs/cli.md");
  }
}
