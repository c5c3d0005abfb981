import type { Command } from "commander";
import { locateConfig, missingConfig } from "../../config/locate.js";
import { globalFlags } from "../_context.js";
import type { JsonFlag } from "../_args.js";
import { colors, indent, plural, print, printJson, visible } from "../_render.js";

const PAINT = { high: colors.red, medium: colors.yellow, low: colors.dim } as const;

/**
 * `openclaw security audit`: what in this set-up would expose its sessions
 * (file modes, tokens and their scopes, an exposed gateway, plain-http
 * upstreams, encryption off) and what to change. Exit 1 while a finding
 * remains, so it can gate a deploy. Reads the environment it runs in for
 * the tokens the config names by variable: run it with the gateway's.
 */
export async function runSecurityAudit(flags: JsonFlag, cmd: Command): Promise<void> {
  const { securityAudit } = await import("../../manager/security-audit.js");
  const g = globalFlags(cmd);
  const location = locateConfig({ ...(g.stateDir !== undefined ? { stateDir: g.stateDir } : {}), ...(g.config !== undefined ? { config: g.config } : {}) });
  const report = await securityAudit({ stateDir: location.stateDir, configPath: location.configPath });
  // A config named on purpose that is missing is a typo, not a clean bill of health.
  if (location.configPathSource !== "default" && !report.configExists) throw missingConfig(location);
  if (report.findings.length > 0) process.exitCode = 1;
  if (flags.json) {
    printJson(report);
    return;
  }
  print(colors.dim(`audited ${visible(report.stateDir)} and ${visible(report.configPath)}`));
  if (report.findings.length === 0) {
    print("no findings");
    return;
  }
  for (const f of report.findings) {
    print(`${PAINT[f.severity](f.severity.toUpperCase().padEnd(6))} ${f.id}: ${visible(f.message)}`);
    print(indent(`fix: ${visible(f.fix)}`, "       "));
  }
  const by = (s: string) => report.findings.filter((f) => f.severity === s).length;
  print();
  print(`${plural(report.findings.length, "finding")} (${by("high")} high, ${by("medium")} medium, ${by("low")} low)`);
}
