import type { Context, MiddlewareHandler } from "hono";
import { OpenclawError } from "../errors.js";
import { errorResponse } from "./_http.js";
import type { GatewayLog } from "./_log.js";
import { requestIdOf } from "./_request-log.js";

/** Options of {@link requestGuard}. */
export interface GuardOptions {
  /**
   * Answer only Host values naming the bound loopback address and port, or
   * listed in `allowedHosts`: true on a loopback bind (and with auth off),
   * where a rebinding page would otherwise reach the gateway as its own origin.
   */
  checkHost: boolean;
  /** `gateway.allowedHosts`: more names of this gateway (`host`: any port, `host:port`: that one). */
  allowedHosts: readonly string[];
  /** The address and port bound; asked on the first request, since port 0 is known only once listening. */
  bound: () => { address: string; port: number };
  log: GatewayLog;
}

/** Methods a browser may send cross-site without changing anything (everything else is a change). */
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * What a hostile web page must not do to a gateway, whatever the token
 * set-up: reach it under a foreign Host (DNS rebinding), change anything or
 * read `/admin` from another origin (a browser tells with `Sec-Fetch-Site`
 * and `Origin`; the SDKs and curl send neither), or send a body a browser
 * may post cross-site without a preflight (text/plain, forms): bodies must be
 * `application/json`. `/health` stays open. Each refusal is logged with the
 * header that decided it, never the body or a token.
 */
export function requestGuard(options: GuardOptions): MiddlewareHandler {
  let hosts: HostNames | undefined;
  return async (c, next) => {
    const path = c.req.path;
    if (path === "/health") return next();
    hosts ??= hostNames(options);
    const host = (c.req.header("host") ?? "").toLowerCase();
    const refuse = (reason: string, err: OpenclawError, fields: Record<string, string | undefined>): Response => {
      const shown: Record<string, string> = {};
      for (const [k, v] of Object.entries(fields)) if (v !== undefined) shown[k] = v.slice(0, 200);
      // The request's own line (route, status, id) comes from the request log; this one says why, by the request id.
      options.log.warn({ event: "request_refused", reason, requestId: requestIdOf(c), method: c.req.method, ...shown }, err.message);
      return errorResponse(c, err);
    };
    if (options.checkHost && !hosts.has(host)) {
      return refuse("host", new OpenclawError("FORBIDDEN", `Host ${JSON.stringify(host.slice(0, 100))} is not a name of this gateway (${hosts.shown}): add it to gateway.allowedHosts if it is yours`), { host });
    }
    const changes = !SAFE_METHODS.has(c.req.method);
    if (changes || path === "/admin" || path.startsWith("/admin/")) {
      const site = c.req.header("sec-fetch-site");
      if (site !== undefined && site !== "same-origin" && site !== "none") {
        return refuse("cross-site", new OpenclawError("FORBIDDEN", `cross-site request refused (Sec-Fetch-Site: ${site.slice(0, 20)}): only this gateway's own pages may change it or read /admin`), {
          secFetchSite: site,
        });
      }
      const origin = c.req.header("origin");
      if (origin !== undefined && !ownOrigin(origin, host, hosts)) {
        return refuse(
          "origin",
          new OpenclawError(
            "FORBIDDEN",
            `request from origin ${JSON.stringify(origin.slice(0, 100))} refused: only this gateway's own pages may change it or read /admin (a name it is served under belongs in gateway.allowedHosts)`,
          ),
          { origin },
        );
      }
    }
    if (changes && hasBody(c)) {
      const type = c.req.header("content-type");
      if (!isJson(type)) {
        return refuse(
          "content-type",
          new OpenclawError("UNSUPPORTED_MEDIA_TYPE", `the request body must be JSON: send Content-Type: application/json (got ${type === undefined ? "none" : JSON.stringify(type.slice(0, 100))})`),
          { contentType: type },
        );
      }
    }
    return next();
  };
}

interface HostNames {
  /** True when `host` (a Host header or an origin's host, lowercased) names this gateway. */
  has(host: string): boolean;
  /** The loopback names, for the refusal message. */
  shown: string;
}

function hostNames(options: GuardOptions): HostNames {
  const { address, port } = options.bound();
  const exact = new Set<string>();
  const anyPort = new Set<string>();
  const loopback = [...new Set(["127.0.0.1", "localhost", "[::1]", address.includes(":") ? `[${address}]` : address])].map((n) => n.toLowerCase());
  for (const name of loopback) {
    exact.add(`${name}:${port}`);
    // A browser leaves the default port out of Host and Origin.
    if (port === 80) exact.add(name);
  }
  for (const entry of options.allowedHosts.map((e) => e.toLowerCase())) (/:\d+$/.test(entry) && !entry.endsWith("]") ? exact : anyPort).add(entry);
  return {
    has: (host) => exact.has(host) || (anyPort.size > 0 && anyPort.has(hostnameOf(host))),
    shown: loopback.map((n) => `${n}:${port}`).join(", "),
  };
}

/** `host` without its port; IPv6 literals keep their brackets. */
function hostnameOf(host: string): string {
  if (host.startsWith("[")) return host.slice(0, host.indexOf("]") + 1);
  const colon = host.indexOf(":");
  return colon === -1 ? host : host.slice(0, colon);
}

/** True when `origin` is the request's own (same host and port as its Host) or another name of this gateway. */
function ownOrigin(origin: string, host: string, hosts: HostNames): boolean {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false; // "null" (sandboxed frames, file: pages) and garbage
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return false;
  const originHost = url.host.toLowerCase();
  return originHost === host || hosts.has(originHost);
}

function hasBody(c: Context): boolean {
  const length = c.req.header("content-length");
  if (length !== undefined) return length.trim() !== "0";
  return c.req.header("transfer-encoding") !== undefined;
}

function isJson(type: string | undefined): boolean {
  if (type === undefined) return false;
  const semi = type.indexOf(";");
  return (semi === -1 ? type : type.slice(0, semi)).trim().toLowerCase() === "application/json";
}
