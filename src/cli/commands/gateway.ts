import type { Command } from "commander";
import { OpenclawError } from "../../errors.js";
import { globalFlags } from "../_context.js";
import { print } from "../_render.js";

/** Flags of `openclaw gateway`. */
export interface GatewayFlags {
  host?: string;
  port?: number;
  json?: boolean;
  logFormat?: "json" | "pretty";
  logLevel?: "debug" | "info" | "warn" | "error" | "silent";
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
  const manager = await SessionManager.open({
    ...(g.stateDir !== undefined ? { stateDir: g.stateDir } : {}),
    ...(g.config !== undefined ? { configPath: g.config } : {}),
    ...(g.store !== undefined ? { storeUri: g.store } : {}),
    warn: (message) => process.stderr.write(`warning: ${message}\n`),
  });
  const config = manager.config.gateway;
  const envToken = process.env.OPENCLAW_GATEWAY_TOKEN;
  if (envToken !== undefined && envToken !== "" && envToken.length < 16) {
    await manager.close();
    throw new OpenclawError("CONFIG_INVALID", "OPENCLAW_GATEWAY_TOKEN is too short: use at least 16 characters");
  }
  const token = envToken !== undefined && envToken !== "" ? envToken : config.auth.token;
  let gateway;
  try {
    // Flag, then config, then what suits the reader: a person at a terminal, or a log collector.
    const format = flags.logFormat ?? config.log.format ?? (process.stderr.isTTY ? "pretty" : "json");
    const log = await createGatewayLog({ format, level: flags.logLevel ?? config.log.level });
    gateway = await startGateway({ manager, host: flags.host ?? config.host, port: flags.port ?? config.port, token, log });
  } catch (err) {
    await manager.close().catch(() => undefined);
    throw err;
  }
  // One line either way: scripts wait for it to know the gateway is ready.
  if (flags.json) print(JSON.stringify({ url: gateway.url }));
  else print(`listening on ${gateway.url}`);
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      resolve();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
  await gateway.close();
  await manager.close();
}
