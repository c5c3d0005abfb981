/**
 * Who a gateway request acts as. The auth middleware sets `credential` on
 * every guarded request; routers read it to decide which sessions the
 * caller may name, and logs and rate limits key on its name.
 */

/** What a credential may do. */
export type Scope =
  /** `/v1` on the conversations and responses this credential created. */
  | "chat"
  /** May name any session by key or channel + sender: the trusted bot router. */
  | "route"
  /** `POST /hooks/*`. */
  | "hooks"
  /** `/admin` reads (lists, shows, status, events). */
  | "admin:read"
  /** `/admin` changes (edit, delete, import, compact…). */
  | "admin:write";

/** Every scope, in the order the docs list them. */
export const ALL_SCOPES: readonly Scope[] = ["chat", "route", "hooks", "admin:read", "admin:write"];

/** The identity a request was authenticated as. */
export interface Credential {
  /** Configured name (`gateway.auth.tokens[].name`); `"default"` for the single token, `"anonymous"` with auth off. */
  readonly name: string;
  readonly scopes: ReadonlySet<Scope>;
}

/** hono's environment for the gateway's routers: what middleware puts on the context. */
export interface GatewayEnv {
  Variables: {
    /** Set by the auth middleware on every route but `/health`. */
    credential: Credential;
    /** A short id for the request, in every log line about it. */
    requestId: string;
  };
}

/** True when `credential` holds `scope`. */
export function hasScope(credential: Credential | undefined, scope: Scope): boolean {
  return credential !== undefined && credential.scopes.has(scope);
}
