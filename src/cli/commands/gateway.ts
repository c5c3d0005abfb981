import type { Command } from "commander";
import { OpenclawError } from "../../errors.js";
import { singleToken } from "../../gateway/token-file.js";
import type { GatewayLog } from "../../gateway/server.js";
import { globalFlags } from "../_context.js";
import { print } from "../_render.js";
import { bannerJson, bannerLines, gatewayBanner } from "./_gateway-banner.js";

/** Flags of `openclaw gateway`. */
export interface GatewayFlags {
  host?: string;
  port?: number;
  json?: boolean;
  logFormat?: "json" | "pretty";
  logLevel?: "debug" | "info" | "warn" | "error" | "silent";
  /** "echo": the built-in offline model; another name: that model on the configured upstream. */
  model?: string;
}

/**
 * `openclaw gateway`: serves the engine over HTTP on the same state dir and
 * config as every other command, until SIGINT or SIGTERM; then it stops
 * accepting, lets in-flight requests finish (aborting them after a few
 * seconds), closes the store and exits 0. Its log goes to stderr: one JSON
 * object a line, or a readable line (the default on a terminal).
 */
export async function runGateway(flags: GatewayFlags, cmd: Command): Promise<void> {
  const { SessionManager } = await import("../../manager/manager.js");
  const { createGatewayLog, startGateway } = await import("../../gateway/server.js");
  const g = globalFlags(cmd);
  // The store's warnings (a corrupt file moved aside…) join the log once it exists, so a JSON
  // log stays JSON; those met while opening, before the config says how to log, wait for it.
  let log: GatewayLog | undefined;
  const early: string[] = [];
  const warnLine = (message: string) => (log !== undefined ? log.warn({ event: "warning" }, message) : early.push(message));
  const plain = () => early.splice(0).forEach((m) => process.stderr.write(`warning: ${m}\n`));
  let manager;
  try {
    const where = { ...(g.stateDir !== undefined ? { stateDir: g.stateDir } : {}), ...(g.config !== undefined ? { configPath: g.config } : {}) };
    manager = await SessionManager.open({
      ...where,
      ...(flags.model !== undefined ? { config: await withModel(where, flags.model, warnLine) } : {}),
      ...(g.store !== undefined ? { storeUri: g.store } : {}),
      warn: warnLine,
    });
  } catch (err) {
    plain();
    throw err;
  }
  const config = manager.config.gateway;
  // The window of the model turns go to: an unknown one is planned at 8k, and the operator should know.
  for (const message of (await manager.window()).warnings) warnLine(message);
  let gateway;
  let single;
  try {
    single = await singleToken(config.auth, manager.location.stateDir, { create: true });
    // Flag, then config, then what suits the reader: a person at a terminal, or a log collector.
    const format = flags.logFormat ?? config.log.format ?? (process.stderr.isTTY ? "pretty" : "json");
    log = await createGatewayLog({ format, level: flags.logLevel ?? config.log.level });
    for (const m of early.splice(0)) warnLine(m);
    if (config.model?.provider === "echo") warnLine(`the model is the built-in echo model: it repeats the last user message and the context size, with no upstream; for trying the gateway, not for production`);
    gateway = await startGateway({ manager, host: flags.host ?? config.host, port: flags.port ?? config.port, token: single?.token, log });
  } catch (err) {
    plain();
    await manager.close().catch(() => undefined);
    throw err;
  }
  log.info({ event: "start", url: gateway.url, auth: config.auth.mode, pid: process.pid }, `listening on ${gateway.url}`);
  // A gateway will fold: its fold thread comes up now, beside the first requests, not at its second fold.
  void manager.warmUp();
  const budget = await manager.window();
  const banner = gatewayBanner({ url: gateway.url, config: manager.config, single, window: budget, store: manager.location.store });
  // Listening for the signals before the banner says the gateway is ready: a script that stops it as soon as
  // it reads the first line must get a graceful stop, not the signal's default (the process killed).
  const stopped = new Promise<void>((resolve) => {
    const stop = () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      resolve();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
  // One block (or one JSON line) either way: scripts wait for its first line to know the gateway is ready.
  if (flags.json) print(JSON.stringify(bannerJson(banner)));
  else for (const line of bannerLines(banner)) print(line);
  await stopped;
  log.info({ event: "stop" }, "stopping: finishing in-flight requests");
  await gateway.close();
  await manager.close();
  log.info({ event: "stopped" }, "stopped");
}

/** The config file's settings with `gateway.model` replaced as `--model` says. */
async function withModel(where: { stateDir?: string; configPath?: string }, name: string, warn: (m: string) => void): Promise<unknown> {
  const { locateSettings } = await import("../../manager/_open.js");
  const { config, warnings } = await locateSettings(where);
  for (const w of warnings) warn(w);
  const current = config.gateway.model;
  if (name === "echo") config.gateway.model = { provider: "echo", model: "echo" };
  else if (current !== undefined && current.provider !== "echo") current.model = name;
  else throw new OpenclawError("INVALID_ARGUMENT", `--model ${JSON.stringify(name)} needs an upstream: set gateway.model.baseUrl in config.json, or use --model echo (the built-in offline model)`);
  return config;
}

/**
 * `openclaw gateway token`: the single token the gateway accepts (the
 * generated one, or the one set by config or environment), for a client or
 * the dashboard's sign-in. Prints the token alone, so `$(openclaw gateway
 * token)` works.
 */
export async function runGatewayToken(flags: { json?: boolean }, cmd: Command): Promise<void> {
  const { locateSettings } = await import("../../manager/_open.js");
  const g = globalFlags(cmd);
  const { config, location } = await locateSettings({ ...(g.stateDir !== undefined ? { stateDir: g.stateDir } : {}), ...(g.config !== undefined ? { configPath: g.config } : {}) });
  const auth = config.gateway.auth;
  const single = await singleToken(auth, location.stateDir, { create: false });
  if (single === undefined) {
    const why =
      auth.mode === "none"
        ? 'gateway.auth.mode is "none": the gateway takes no token (loopback only)'
        : (auth.tokens ?? []).length > 0
          ? "the gateway uses gateway.auth.tokens: each credential's token is where the config says (token, tokenEnv, or the one whose tokenSha256 it holds)"
          : "no gateway token yet: `openclaw gateway` generates one on its first start";
    throw new OpenclawError("NOT_FOUND", why);
  }
  const dashboard = `http://${config.gateway.host.includes(":") ? `[${config.gateway.host}]` : config.gateway.host}:${config.gateway.port}/`;
  // `gateway` has a --json of its own, which commander gives the parent when it comes after `token`.
  const json = flags.json === true || cmd.optsWithGlobals<{ json?: boolean }>().json === true;
  if (json) print(JSON.stringify({ token: single.token, source: single.source, ...(single.path !== undefined ? { path: single.path } : {}), dashboard }));
  else print(single.token);
}
