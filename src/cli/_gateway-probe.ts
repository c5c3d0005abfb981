import { request } from "node:http";
import type { Config } from "../config/schema.js";
import type { RuntimeReport } from "../gateway/observability.js";
import { singleToken } from "../gateway/token-file.js";

/** How long `status --verbose` waits for a gateway to accept the connection: none running must not slow it down. */
export const CONNECT_TIMEOUT_MS = 500;
/** How long it waits for the gateway's answer once connected. */
const ANSWER_TIMEOUT_MS = 2_000;

/** A running gateway's own figures, and where they came from. */
export type GatewayFigures = RuntimeReport & { url: string };

/** What asking the configured gateway gave: its figures, or why there are none. */
export type GatewayProbe = { gateway: GatewayFigures } | { gateway: null; error: string; url: string };

/** The URL a client on this machine reaches the configured gateway at (a wildcard bind is reached on loopback). */
export function gatewayUrl(config: Config): string {
  const host = config.gateway.host === "0.0.0.0" ? "127.0.0.1" : config.gateway.host === "::" ? "::1" : config.gateway.host;
  return `http://${host.includes(":") && !host.startsWith("[") ? `[${host}]` : host}:${config.gateway.port}`;
}

/**
 * Asks the gateway the config names (`gateway.host`, `gateway.port`) for its
 * process figures (`GET /admin/runtime`), with its single token (from the
 * environment, the config or the token file). Never throws: a gateway that
 * is not running, refuses the token or answers oddly is an `error` line.
 */
export async function probeGateway(config: Config, stateDir: string): Promise<GatewayProbe> {
  const url = gatewayUrl(config);
  let token: string | undefined;
  try {
    token = (await singleToken(config.gateway.auth, stateDir, { create: false }))?.token;
  } catch (err) {
    return { gateway: null, url, error: `cannot read the gateway token: ${(err as Error).message}` };
  }
  const answer = await get(`${url}/admin/runtime`, token);
  if ("error" in answer) return { gateway: null, url, error: answer.error };
  if (answer.status === 401 || answer.status === 403) {
    const hint = token === undefined ? "no token for it here: set OPENCLAW_GATEWAY_TOKEN to a token with the admin:read scope" : "set OPENCLAW_GATEWAY_TOKEN to a token with the admin:read scope";
    return { gateway: null, url, error: `the gateway at ${url} refused the request (${answer.status}): ${hint}` };
  }
  if (answer.status !== 200) return { gateway: null, url, error: `the gateway at ${url} answered ${answer.status} to /admin/runtime (an older version?)` };
  try {
    const report = JSON.parse(answer.body) as RuntimeReport;
    if (typeof report.pid !== "number" || typeof report.memory?.rss !== "number") throw new Error("unexpected shape");
    return { gateway: { url, ...report } };
  } catch {
    return { gateway: null, url, error: `the gateway at ${url} answered /admin/runtime with something else than its figures` };
  }
}

/** One GET with a short connect bound; the error is one line saying what happened. */
function get(url: string, token: string | undefined): Promise<{ status: number; body: string } | { error: string }> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (v: { status: number; body: string } | { error: string }) => {
      if (settled) return;
      settled = true;
      clearTimeout(connectTimer);
      clearTimeout(answerTimer);
      resolve(v);
    };
    const where = new URL(url).origin;
    const req = request(url, { method: "GET", headers: { accept: "application/json", ...(token !== undefined ? { authorization: `Bearer ${token}` } : {}) }, agent: false });
    const connectTimer = setTimeout(() => {
      done({ error: `no gateway answering at ${where} (no connection within ${CONNECT_TIMEOUT_MS} ms)` });
      req.destroy();
    }, CONNECT_TIMEOUT_MS);
    let answerTimer: ReturnType<typeof setTimeout> | undefined;
    req.on("socket", (socket) => {
      socket.once("connect", () => {
        clearTimeout(connectTimer);
        answerTimer = setTimeout(() => {
          done({ error: `the gateway at ${where} accepted the connection but did not answer within ${ANSWER_TIMEOUT_MS} ms` });
          req.destroy();
        }, ANSWER_TIMEOUT_MS);
      });
    });
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => done({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", (err) => done({ error: `the gateway at ${where} broke off its answer (${err.message})` }));
    });
    req.on("error", (err: NodeJS.ErrnoException) => {
      const why = err.code === "ECONNREFUSED" ? "connection refused" : (err.code ?? err.message);
      done({ error: `no gateway answering at ${where} (${why})` });
    });
    req.end();
  });
}
