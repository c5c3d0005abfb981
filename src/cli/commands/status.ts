import type { Command } from "commander";
import type { StatusReport } from "../../manager/status.js";
import type { GatewayProbe } from "../_gateway-probe.js";
import { withManager } from "../_context.js";
import { colors, plural, formatBytes, formatDuration, formatInt, formatPercent, heading, keyValues, paintStatus, print, printJson, table, visible } from "../_render.js";

/** Flags of `openclaw status`. */
export interface StatusFlags {
  verbose?: boolean;
  json?: boolean;
}

const SOURCE_LABEL = { flag: "from the command line", env: "from the environment", config: "from the config", default: "default" } as const;

/** `openclaw status`. */
export async function runStatus(flags: StatusFlags, cmd: Command): Promise<void> {
  const verbose = flags.verbose === true;
  const { report, location, probe } = await withManager(cmd, async (m) => {
    // Asked while the store is read: a gateway that is not running costs at most its connect timeout.
    const asking = verbose ? import("../_gateway-probe.js").then(({ probeGateway }) => probeGateway(m.config, m.location.stateDir)) : undefined;
    return { report: await m.status({ verbose }), location: m.location, probe: await asking };
  });
  const quarantined = report.quarantined;
  if (flags.json) {
    const gateway = probe === undefined ? {} : probe.gateway !== null ? { gateway: probe.gateway } : { gateway: null, gatewayError: probe.error };
    printJson({ ...report, stateDirSource: location.stateDirSource, configPathSource: location.configPathSource, ...gateway });
    return;
  }
  const byStatus = (Object.entries(report.byStatus) as Array<[string, number]>).map(([k, n]) => `${paintStatus(k)} ${formatInt(n)}`).join(" · ");
  const byKind = Object.entries(report.byKind)
    .map(([k, n]) => `${visible(k)} ${formatInt(n)}`)
    .join(" · ");
  print(
    keyValues([
      ["state dir", `${visible(report.stateDir)} ${colors.dim(`(${SOURCE_LABEL[location.stateDirSource]})`)}`],
      ["config", `${visible(report.configPath)} ${colors.dim(`(${SOURCE_LABEL[location.configPathSource]})`)}`],
      ["store", `${storeLine(report)} ${colors.dim(`(${SOURCE_LABEL[report.storeSource]})`)}`],
      ["encryption", report.encryptionKeys === null ? "off" : `on ${colors.dim(`(key ${report.encryptionKeys.join(", ")})`)}`],
      ["model", `${visible(report.model)} ${colors.dim(`(window ${formatInt(report.window)} tokens, budget ${formatInt(report.budget)})`)}`],
      ["sessions", formatInt(report.total)],
      ["by status", byStatus],
      ["by kind", byKind],
      ["tokens used", usedLine(report.usage)],
      ["dm scope", scopeLine(report)],
      ...(quarantined !== null && quarantined > 0 ? [["problems", colors.yellow(`${plural(quarantined, "corrupt session file")} in sessions/quarantine/ (openclaw doctor tells what to do)`)] as [string, string]] : []),
    ]),
  );
  const v = report.verbose;
  if (v === undefined) return;
  print();
  print(`${heading("context usage")} ${colors.dim("(sessions not archived, newest activity first)")}`);
  if (v.sessions.length === 0) print(colors.dim("  none"));
  else {
    const rows = v.sessions.map((s) => [
      visible(s.id),
      visible(s.key),
      paintStatus(s.status),
      `${formatInt(s.tokens)} / ${formatInt(s.window)}`,
      formatPercent(s.percent),
      s.used === null ? "-" : formatInt(s.used),
      formatBytes(s.sizeBytes),
    ]);
    print(table(["ID", "KEY", "STATUS", "TOKENS / WINDOW", "USED", "TOKENS USED", "SIZE"], rows, ["left", "left", "left", "right", "right", "right", "right"]));
  }
  print();
  print(heading("largest on disk"));
  if (v.largest.length === 0) print(colors.dim("  none"));
  else
    print(
      table(
        ["ID", "KEY", "SIZE", "MSGS"],
        v.largest.map((s) => [visible(s.id), visible(s.key), formatBytes(s.sizeBytes), s.messageCount]),
        ["left", "left", "right", "right"],
      ),
    );
  if (v.corrupt.length > 0) {
    print();
    print(`${heading("corrupt documents")} ${colors.dim("(they do not parse; openclaw doctor --fix moves them aside)")}`);
    for (const name of v.corrupt) print(`  ${colors.yellow(visible(`sessions/${name}`))}`);
  }
  print();
  if (probe !== undefined) printGateway(probe);
  print(`${heading("memory")} ${colors.dim("(this CLI process)")}`);
  print(
    keyValues([
      ["rss", formatBytes(v.memory.rss)],
      ["heap", `${formatBytes(v.memory.heapUsed)} used of ${formatBytes(v.memory.heapTotal)}`],
    ]),
  );
}

/** The running gateway's own figures, or one line saying none was reached (the CLI's own figures follow either way). */
function printGateway(probe: GatewayProbe): void {
  const g = probe.gateway;
  if (g === null) {
    print(`${colors.yellow(visible(probe.error))}; the memory figures below are this CLI process's`);
    print();
    return;
  }
  print(`${heading("gateway")} at ${visible(g.url)} ${colors.dim(`(pid ${g.pid})`)}`);
  const rate = (n: number) => (n === 0 ? "0" : n.toFixed(2).replace(/\.?0+$/, ""));
  print(
    keyValues([
      ["rss", formatBytes(g.memory.rss)],
      ["heap", `${formatBytes(g.memory.heapUsed)} used of ${formatBytes(g.memory.heapTotal)}`],
      ["sessions cached", formatInt(g.sessionsCached)],
      ["uptime", formatDuration(g.uptimeSeconds * 1000)],
      ["turns/min", `${rate(g.turnsPerMinute.lastMinute)} over the last minute · ${rate(g.turnsPerMinute.lastHour)} over the last hour`],
    ]),
  );
  print();
}

function usedLine(u: StatusReport["usage"]): string {
  if (u.turns === 0) return "no model call recorded yet";
  const estimated = u.estimatedTurns > 0 ? ` (${formatInt(u.estimatedTurns)} estimated)` : "";
  return `${formatInt(u.input)} in · ${formatInt(u.output)} out · ${formatInt(u.total)} total over ${plural(u.turns, "model call")}${estimated} (openclaw usage breaks it down)`;
}

function scopeLine(report: StatusReport): string {
  const n = report.dmScope.mismatched.length;
  if (n === 0) return visible(report.dmScope.scope);
  return `${visible(report.dmScope.scope)} ${colors.yellow(`(${plural(n, "live session")} keyed otherwise; openclaw sessions rescope --dry-run shows how they would move)`)}`;
}

function storeLine(report: StatusReport): string {
  const where = report.storeLocation.startsWith("file:") ? report.storeLocation.slice("file:".length) : report.storeLocation;
  const parts = [`${visible(report.store)} at ${visible(where)}`];
  if (report.serverVersion !== undefined) parts.push(visible(report.serverVersion));
  if (report.sizeOnDisk !== null) parts.push(`${formatBytes(report.sizeOnDisk)} on disk`);
  return parts.join(", ");
}
