import type { ServerOptions } from "node:http";
import type { AddressInfo } from "node:net";
import { serve, type ServerType } from "@hono/node-server";
import { OpenclawError } from "../errors.js";
import type { SessionManager } from "../manager/manager.js";
import { createModelClient, type ModelClient, type ModelDeps } from "../model/client.js";
import { buildAuth } from "./_auth.js";
import { createApp } from "./app.js";
import { EventLog } from "./_events.js";
import { createGatewayLog, type GatewayLog } from "./_log.js";
import { TurnRunner } from "./_turn.js";
import { startMaintenance } from "./_maintenance.js";
import { Telemetry } from "./_telemetry.js";

export { createGatewayLog, type GatewayLog, type GatewayLogOptions } from "./_log.js";

/** Options of {@link startGateway}. */
export interface GatewayOptions {
  manager: SessionManager;
  host: string;
  /** 0 takes any free port. */
  port: number;
  /**
   * The single bearer token (credential "default", every scope). In auth mode
   * "token" with neither this nor `gateway.auth.tokens`, the gateway refuses
   * to start: `openclaw gateway` passes the generated one (see token-file.ts).
   */
  token: string | undefined;
  /** Seams for the upstream client (tests). */
  modelDeps?: ModelDeps;
  /** The structured log (default: pino on stderr, JSON lines). */
  log?: GatewayLog;
  /** How long in-flight requests may take to finish after close() before they are aborted (default 5 s). */
  graceMs?: number;
}

/** A running gateway. */
export interface Gateway {
  /** `http://host:port`, with the port actually bound. */
  url: string;
  /** Stops accepting, lets in-flight requests finish (aborting them after the grace period), closes the manager's events. */
  close(): Promise<void>;
}

/** True for addresses only this machine can reach. */
export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || host === "[::1]" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/**
 * Node's limits on receiving a request: headers and body within `ms`, or a
 * 408 and the connection closed. They end once the request is received, so
 * streamed responses and the event stream run as long as they need.
 * Node checks them on an interval (30 s by default): a short one makes the
 * bound hold to within a quarter of it.
 */
function receiveTimeouts(ms: number): ServerOptions {
  return { requestTimeout: ms, headersTimeout: Math.min(ms, 60_000), connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(ms / 4))) };
}

/** Starts the gateway on the manager's store and config. The caller still owns (and closes) the manager. */
export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const { manager } = options;
  const config = manager.config.gateway;
  if (!isLoopback(options.host) && config.auth.mode === "none") {
    throw new OpenclawError("CONFIG_INVALID", `refusing to listen on ${options.host} without a token: gateway.auth.mode "none" is for loopback only; use mode "token" or bind 127.0.0.1`);
  }
  const auth = buildAuth(config.auth, options.token);
  const model = config.model === undefined ? undefined : config.model.provider === "echo" ? await echoModel(config.model.model) : await createModelClient(config.model, options.modelDeps ?? {});
  const shutdown = new AbortController();
  const draining = new AbortController();
  const log = options.log ?? (await createGatewayLog());
  const events = new EventLog(manager);
  const telemetry = await Telemetry.start(manager);
  const turns = new TurnRunner(manager, model, { queue: config.turnQueue, shutdown: shutdown.signal, log, telemetry });
  let bound: AddressInfo | undefined;
  const guard = { checkHost: isLoopback(options.host), allowedHosts: config.allowedHosts, bound: () => bound ?? { address: options.host, port: options.port } };
  const app = createApp({ manager, model, turns, events, log, maxBodyBytes: config.maxBodyBytes, shutdown: shutdown.signal, draining: draining.signal, telemetry }, auth, guard);
  let server: ServerType;
  try {
    server = await new Promise((resolve, reject) => {
      const s = serve({ fetch: app.fetch, hostname: options.host, port: options.port, serverOptions: receiveTimeouts(config.requestTimeoutMs) }, (info) => {
        bound = info;
        resolve(s);
      });
      s.once("error", (err: NodeJS.ErrnoException) => reject(new OpenclawError("INVALID_ARGUMENT", `cannot listen on ${options.host}:${options.port}: ${err.code ?? err.message}`, { cause: err })));
    });
  } catch (err) {
    telemetry.stop();
    throw err;
  }
  // Retention runs beside the requests, through the manager like any admin change.
  const maintenance = startMaintenance(manager, log, shutdown.signal);
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${address.port}`,
    close() {
      closing ??= (async () => {
        draining.abort(new Error("the gateway is shutting down"));
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        // Long-lived streams (event streams, slow model calls) end when the grace period is over.
        const timer = setTimeout(() => {
          shutdown.abort(new Error("the gateway is shutting down"));
          (server as { closeAllConnections?: () => void }).closeAllConnections?.();
        }, options.graceMs ?? 5000);
        (server as { closeIdleConnections?: () => void }).closeIdleConnections?.();
        await stopped;
        clearTimeout(timer);
        shutdown.abort(new Error("the gateway is shutting down"));
        await maintenance.stop();
        telemetry.stop();
        events.close();
      })();
      return closing;
    },
  };
}

/** The built-in echo model, counting usage with the context layer's estimate. */
async function echoModel(name: string): Promise<ModelClient> {
  const [{ createEchoModel }, { estimateTokens, MESSAGE_OVERHEAD_TOKENS }] = await Promise.all([import("../model/echo.js"), import("../context/tokens.js")]);
  return createEchoModel({ text: estimateTokens, perMessage: MESSAGE_OVERHEAD_TOKENS }, name);
}
