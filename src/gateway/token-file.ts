import { randomBytes } from "node:crypto";
import { link, mkdir, open, readFile, unlink } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { GatewayConfig } from "../config/schema.js";
import { OpenclawError, storageError } from "../errors.js";

/** The file in the state dir that keeps the token the gateway generated on its first start. */
export const TOKEN_FILE = "gateway-token";

/** Where the single gateway token comes from. */
export type TokenSource = "env" | "config" | "file";

/** The single gateway token (credential "default") and where it was found. */
export interface SingleToken {
  token: string;
  source: TokenSource;
  /** The token file, when source is "file". */
  path?: string;
  /** True when this call generated it (the gateway prints it once). */
  created: boolean;
}

/**
 * The single token a gateway with this config accepts: OPENCLAW_GATEWAY_TOKEN,
 * then `gateway.auth.token`, then the state dir's generated one. Undefined
 * when none applies: auth mode "none", or only `gateway.auth.tokens`
 * configured, or (with `create` false) none generated yet. With `create`, a
 * token mode gateway that has no credential at all gets one generated, so it
 * is never open by default.
 */
export async function singleToken(auth: GatewayConfig["auth"], stateDir: string, options: { create: boolean; env?: NodeJS.ProcessEnv }): Promise<SingleToken | undefined> {
  const env = options.env ?? process.env;
  if (auth.mode === "none") return undefined;
  const fromEnv = env.OPENCLAW_GATEWAY_TOKEN;
  if (fromEnv !== undefined && fromEnv !== "") {
    if (fromEnv.length < 16) throw new OpenclawError("CONFIG_INVALID", "OPENCLAW_GATEWAY_TOKEN is too short: use at least 16 characters");
    return { token: fromEnv, source: "env", created: false };
  }
  if (auth.token !== undefined) return { token: auth.token, source: "config", created: false };
  if ((auth.tokens ?? []).length > 0) return undefined;
  const path = join(stateDir, TOKEN_FILE);
  const existing = await readToken(path);
  if (existing !== undefined) return { token: existing, source: "file", path, created: false };
  if (!options.create) return undefined;
  return { ...(await createToken(path)), source: "file", path };
}

async function readToken(path: string): Promise<string | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw storageError("read", path, err);
  }
  const token = text.trim();
  if (token.length < 16) throw new OpenclawError("CONFIG_INVALID", `${path} does not hold a token of at least 16 characters: delete it and start the gateway to generate a new one`);
  return token;
}

// Written whole to a private temporary file, then linked into place: the link fails if the
// token file exists, so two gateways starting at once on one state dir end up with one token,
// and neither ever reads a half-written file.
async function createToken(path: string): Promise<{ token: string; created: boolean }> {
  const token = `ocg_${randomBytes(32).toString("base64url")}`;
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  try {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    const handle = await open(tmp, "wx", 0o600);
    try {
      await handle.writeFile(`${token}\n`, "utf8");
      await handle.sync();
    } finally {
      await handle.close();
    }
    await link(tmp, path);
    return { token, created: true };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw storageError("write", path, err);
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
  const theirs = await readToken(path);
  if (theirs === undefined) throw new OpenclawError("STORAGE", `${path} vanished while the gateway token was being created: start again`);
  return { token: theirs, created: false };
}
