import { z } from "zod";
import { envName } from "./_fields.js";

// Kept beside schema.ts because the gateway's credential rules are long
// enough to hide the rest of the gateway settings.

/** The scopes a credential may hold (the gateway's `Scope`, spelled here so config stays free of gateway code). */
export const SCOPE_NAMES = ["chat", "route", "hooks", "admin:read", "admin:write"] as const;

const TOKEN = "expected a token of at least 16 characters";
const NAME = "expected a name of 1-64 characters from A-Z a-z 0-9 _ . + = -";
const SCOPES = `expected an array of scopes from ${SCOPE_NAMES.join(", ")}`;
// Names the gateway gives the single token and auth mode "none"; a listed credential must not pass for either.
const RESERVED = new Set(["default", "anonymous"]);

const credential = z
  .object({
    /** Who this is in logs, rate limits and session ownership; it also ends the keys of the sessions it creates. */
    name: z.string({ error: NAME }).regex(/^[A-Za-z0-9_.+=-]{1,64}$/, { error: NAME }),
    /** The token itself. */
    token: z.string({ error: TOKEN }).min(16, { error: TOKEN }).optional(),
    /** The token's SHA-256 as 64 hex digits, so the config need not hold the token. */
    tokenSha256: z
      .string({ error: "expected 64 hex digits (sha256 of the token)" })
      .regex(/^[0-9a-fA-F]{64}$/, { error: "expected 64 hex digits (sha256 of the token)" })
      .optional(),
    /** Name of the environment variable that holds the token. */
    tokenEnv: envName(),
    scopes: z.array(z.enum(SCOPE_NAMES, { error: `unknown scope: use ${SCOPE_NAMES.join(", ")}` }), { error: SCOPES }).min(1, { error: SCOPES }),
  })
  .strict()
  .check((ctx) => {
    const given = [ctx.value.token, ctx.value.tokenSha256, ctx.value.tokenEnv].filter((v) => v !== undefined).length;
    if (given !== 1) {
      // The keys, not the value: the value may hold a token.
      ctx.issues.push({ code: "custom", input: Object.keys(ctx.value), message: `credential "${ctx.value.name}" needs exactly one of token, tokenSha256 or tokenEnv` });
    }
    if (RESERVED.has(ctx.value.name)) {
      ctx.issues.push({
        code: "custom",
        input: ctx.value.name,
        path: ["name"],
        message: `"${ctx.value.name}" is reserved for ${ctx.value.name === "default" ? "gateway.auth.token" : 'auth mode "none"'}: pick another name`,
      });
    }
  });

/** `gateway.auth`: how requests prove who they are. */
export const gatewayAuth = z
  .object({
    /** "token": every request but GET /health carries a bearer token (one is generated on first start when none is configured); "none": loopback only, no credential. */
    mode: z.enum(["token", "none"], { error: 'expected "token" or "none"' }).default("token"),
    /** Bearer token with every scope (credential "default"); OPENCLAW_GATEWAY_TOKEN overrides it. */
    token: z.string({ error: TOKEN }).min(16, { error: TOKEN }).optional(),
    /** Scoped credentials, each a name, one way to find its token, and its scopes. */
    tokens: z
      .array(credential, { error: "expected an array of {name, token | tokenSha256 | tokenEnv, scopes}" })
      .check((ctx) => {
        const seen = new Set<string>();
        ctx.value.forEach((c, i) => {
          if (seen.has(c.name)) ctx.issues.push({ code: "custom", input: c.name, path: [i, "name"], message: `duplicate credential name "${c.name}": names must be unique` });
          seen.add(c.name);
        });
      })
      .optional(),
  })
  .prefault({});
