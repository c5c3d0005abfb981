import { createHash, timingSafeEqual } from "node:crypto";
import type { Context, MiddlewareHandler } from "hono";
import type { GatewayConfig } from "../config/schema.js";
import { OpenclawError } from "../errors.js";
import { ALL_SCOPES, hasScope, type Credential, type GatewayEnv, type Scope } from "./_credential.js";
import { errorResponse } from "./_http.js";

/** One credential the gateway accepts, with the SHA-256 of its token. */
interface Entry {
  credential: Credential;
  digest: Buffer;
}

/** Who may call the gateway: auth mode "none" (anyone, with every scope) or the credentials it accepts. */
export interface AuthTable {
  mode: "token" | "none";
  entries: readonly Entry[];
}

/** The surfaces behind auth; each asks for its own scope. */
export type AuthArea = "v1" | "hooks" | "admin" | "metrics";

const EVERY_SCOPE: ReadonlySet<Scope> = new Set(ALL_SCOPES);

/** Who a request acts as when auth mode is "none". */
export const ANONYMOUS: Credential = { name: "anonymous", scopes: EVERY_SCOPE };

const sha256 = (s: string): Buffer => createHash("sha256").update(s, "utf8").digest();

/**
 * The credentials of a gateway: `single` (gateway.auth.token,
 * OPENCLAW_GATEWAY_TOKEN or the generated one) as "default" with every
 * scope, then `gateway.auth.tokens`, their `tokenEnv` read from `env` now so a
 * missing variable stops the start, not the first request.
 */
export function buildAuth(auth: GatewayConfig["auth"], single: string | undefined, env: NodeJS.ProcessEnv = process.env): AuthTable {
  if (auth.mode === "none") return { mode: "none", entries: [] };
  const entries: Entry[] = [];
  if (single !== undefined) entries.push({ credential: { name: "default", scopes: EVERY_SCOPE }, digest: sha256(single) });
  for (const [i, c] of (auth.tokens ?? []).entries()) {
    const where = `gateway.auth.tokens.${i} ("${c.name}")`;
    let digest: Buffer;
    if (c.tokenSha256 !== undefined) digest = Buffer.from(c.tokenSha256.toLowerCase(), "hex");
    else if (c.token !== undefined) digest = sha256(c.token);
    else {
      const value = env[c.tokenEnv ?? ""];
      if (value === undefined || value === "") throw new OpenclawError("CONFIG_INVALID", `${where}: environment variable ${c.tokenEnv} is not set; set it to the credential's token`);
      if (value.length < 16) throw new OpenclawError("CONFIG_INVALID", `${where}: ${c.tokenEnv} is too short: use at least 16 characters`);
      digest = sha256(value);
    }
    const twin = entries.find((e) => e.digest.equals(digest));
    if (twin !== undefined) throw new OpenclawError("CONFIG_INVALID", `${where}: same token as "${twin.credential.name}": give every credential its own token`);
    entries.push({ credential: { name: c.name, scopes: new Set(c.scopes) }, digest });
  }
  if (entries.length === 0) {
    throw new OpenclawError("CONFIG_INVALID", 'no gateway credential: set gateway.auth.token, OPENCLAW_GATEWAY_TOKEN or gateway.auth.tokens (or gateway.auth.mode "none" on loopback)');
  }
  return { mode: "token", entries };
}

/** The credential whose token is `presented`; every entry is compared (in constant time), so timing tells nothing about which matched. */
function match(table: AuthTable, presented: string): Credential | undefined {
  const digest = sha256(presented);
  let found: Credential | undefined;
  for (const e of table.entries) if (timingSafeEqual(e.digest, digest) && found === undefined) found = e.credential;
  return found;
}

/** The scopes a request to `area` may be let in with (any one of them). */
function scopesFor(area: AuthArea, method: string): readonly Scope[] {
  if (area === "v1") return ["chat", "route"];
  if (area === "hooks") return ["hooks"];
  if (area === "metrics") return ["admin:read"];
  return method === "GET" || method === "HEAD" ? ["admin:read"] : ["admin:write"];
}

/**
 * Authenticates every request to `area` (bearer token, or anonymous in mode
 * "none"), sets `credential` on the context, and refuses one without a
 * scope the area needs with a 403 naming it. The request log records every
 * refusal as an `auth_failure` (with the credential's name on a 403, never
 * a token).
 */
export function authenticate(table: AuthTable, area: AuthArea): MiddlewareHandler<GatewayEnv> {
  return async (c, next) => {
    let credential: Credential;
    if (table.mode === "none") credential = ANONYMOUS;
    else {
      const m = /^Bearer\s+(.+)$/i.exec(c.req.header("authorization") ?? "");
      if (m === null) return errorResponse(c, new OpenclawError("UNAUTHORIZED", "missing bearer token: send Authorization: Bearer <token> (see `openclaw gateway token`)"));
      const found = match(table, (m[1] ?? "").trim());
      if (found === undefined) return errorResponse(c, new OpenclawError("UNAUTHORIZED", "invalid bearer token"));
      credential = found;
    }
    // Set before the scope check, so the log of a refusal names who was refused.
    c.set("credential", credential);
    const needed = scopesFor(area, c.req.method);
    if (!needed.some((s) => hasScope(credential, s))) {
      const where = area === "metrics" ? "/metrics" : `/${area}/…`;
      return errorResponse(c, forbidden(credential, `${c.req.method} ${where} needs the ${needed.join(" or ")} scope`));
    }
    return next();
  };
}

/** The 403 for a credential that lacks a scope; `what` says what needed it. */
export function forbidden(credential: Credential, what: string): OpenclawError {
  return new OpenclawError("FORBIDDEN", `${what}; credential "${credential.name}" has ${[...credential.scopes].join(", ") || "no scopes"}`);
}

/** The credential the auth middleware set; routers behind it always have one. */
export function credentialOf(c: Context): Credential {
  const credential = (c as Context<GatewayEnv>).get("credential") as Credential | undefined;
  // A route mounted outside the middleware is a bug, and must not become an open door.
  if (credential === undefined) throw new Error("no credential on a guarded route");
  return credential;
}
