import { SCOPE_NAMES } from "../config/schema.js";

/**
 * The security audit's checks on the configuration: pure functions of the
 * config file's JSON and the environment. The file is read defensively
 * (plain JSON, every field optional and of any type), so the audit works on
 * configs written for newer or older versions of the gateway's auth.
 */

/** How much a finding exposes. */
export type Severity = "high" | "medium" | "low";

/** One thing the audit would change, and how. */
export interface Finding {
  /** Stable id: `state-dir-mode`, `weak-token`, `exposed-without-token`… */
  id: string;
  severity: Severity;
  /** What is wrong and what it exposes. */
  message: string;
  /** What to change. */
  fix: string;
}

/** Every scope a credential can hold; one holding all of them can do anything. */
const ALL_SCOPE_NAMES = SCOPE_NAMES;

/** A credential as configured: where it is set, its secret when the audit can see it, its scopes. */
interface ConfiguredToken {
  /** Where it is set, as the operator would look for it: `gateway.auth.tokens[1] ("bot")`. */
  where: string;
  /** The secret when known (written in the config or in a variable the audit can read); undefined when only a hash or an unset variable is given. */
  secret: string | undefined;
  allScopes: boolean;
}

const GENERATE = "openssl rand -hex 32";
// Not a secret: a word people type when asked for one. Six letters or more, so a
// random base64 token holds one by chance about once in ten million.
const WORDS = ["password", "passwd", "secret", "changeme", "openclaw", "example", "letmein", "qwerty", "default"];

/** True for a host only this machine can reach. Kept apart from the gateway's copy: the manager sits below it. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase();
  return h === "localhost" || h === "::1" || h === "[::1]" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/**
 * Why a token is weak, or undefined when it looks random and long enough:
 * at least 32 characters, not a repeated pattern, no run like `12345678`
 * or `abcdefgh`, no common word, and a fair spread of characters.
 */
export function tokenWeakness(token: string): string | undefined {
  if (token.length < 32) return `it has ${token.length} characters; a token needs at least 32 random ones`;
  const lower = token.toLowerCase();
  const word = WORDS.find((w) => lower.includes(w));
  if (word !== undefined) return `it contains the word "${word}"`;
  if (new Set(token).size < 8) return "it uses fewer than 8 distinct characters";
  for (let period = 1; period <= token.length / 2; period++) {
    let repeats = true;
    for (let i = period; i < token.length && repeats; i++) repeats = token[i] === token[i - period];
    if (repeats) return "it repeats a short pattern";
  }
  let run = 1;
  for (let i = 1; i < token.length; i++) {
    const step = token.charCodeAt(i) - token.charCodeAt(i - 1);
    run = step === 1 || step === -1 ? run + 1 : 1;
    // Long enough that a random hex token (openssl rand -hex 32) almost never has one.
    if (run >= 8) return "it contains a run of consecutive characters such as 12345678 or abcdefgh";
  }
  return undefined;
}

function obj(v: unknown): Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

function str(v: unknown): string | undefined {
  return typeof v === "string" && v !== "" ? v : undefined;
}

/** The token the gateway generated on its first start (`<state dir>/gateway-token`), as the audit found it. */
export interface GeneratedToken {
  path: string;
  /** Its content; undefined when it has not been generated yet. */
  secret: string | undefined;
}

/** The credentials a gateway started with this config and environment would accept. */
function tokensOf(raw: Record<string, unknown>, env: NodeJS.ProcessEnv, generated: GeneratedToken | undefined): ConfiguredToken[] {
  const auth = obj(obj(raw.gateway).auth);
  const out: ConfiguredToken[] = [];
  const fromEnv = str(env.OPENCLAW_GATEWAY_TOKEN);
  // The environment's token replaces the config's as the all-scope "default" credential.
  if (fromEnv !== undefined) out.push({ where: "OPENCLAW_GATEWAY_TOKEN", secret: fromEnv, allScopes: true });
  const single = str(auth.token);
  if (single !== undefined && fromEnv === undefined) out.push({ where: "gateway.auth.token", secret: single, allScopes: true });
  const list = Array.isArray(auth.tokens) ? (auth.tokens as unknown[]) : [];
  list.forEach((entry, i) => {
    const t = obj(entry);
    const name = str(t.name);
    const where = `gateway.auth.tokens[${i}]${name !== undefined ? ` (${JSON.stringify(name)})` : ""}`;
    const envName = str(t.tokenEnv);
    const secret = str(t.token) ?? (envName !== undefined ? str(env[envName]) : undefined);
    // No scopes written: assume the worst, every scope.
    const scopes = Array.isArray(t.scopes) ? (t.scopes as unknown[]).filter((s): s is string => typeof s === "string") : [...ALL_SCOPE_NAMES];
    out.push({ where, secret, allScopes: ALL_SCOPE_NAMES.every((s) => scopes.includes(s) || scopes.includes("*")) });
  });
  // With no token configured, the gateway generates one on its first start rather than run open.
  if (out.length === 0 && generated !== undefined) out.push({ where: `the generated token (${generated.path})`, secret: generated.secret, allScopes: true });
  return out;
}

/** The plain-http upstreams the config names: the gateway's model and an OpenAI-compatible summarizer. */
function upstreamsOf(raw: Record<string, unknown>): Array<{ where: string; url: string; keyed: boolean }> {
  const out: Array<{ where: string; url: string; keyed: boolean }> = [];
  const model = obj(obj(raw.gateway).model);
  const modelUrl = str(model.baseUrl);
  if (modelUrl !== undefined) out.push({ where: "gateway.model.baseUrl", url: modelUrl, keyed: str(model.apiKeyEnv) !== undefined });
  const summarizer = obj(obj(raw.sessions).summarizer);
  const sumUrl = str(summarizer.baseUrl);
  if (summarizer.type === "openai-compatible" && sumUrl !== undefined) out.push({ where: "sessions.summarizer.baseUrl", url: sumUrl, keyed: str(summarizer.apiKeyEnv) !== undefined });
  return out;
}

/**
 * The findings about the configuration: weak tokens, one credential holding
 * every scope for every client, a gateway reachable from other machines
 * without a token (or with auth turned off), an upstream model over plain
 * http to another machine, and no encryption at rest on an exposed gateway.
 */
export function configFindings(rawConfig: unknown, env: NodeJS.ProcessEnv, generated?: GeneratedToken): Finding[] {
  const raw = obj(rawConfig);
  const gateway = obj(raw.gateway);
  const host = str(gateway.host) ?? "127.0.0.1";
  const exposed = !isLoopbackHost(host);
  const authOff = obj(gateway.auth).mode === "none";
  const tokens = authOff ? [] : tokensOf(raw, env, generated);
  const findings: Finding[] = [];

  if (exposed && (tokens.length === 0 || authOff)) {
    findings.push({
      id: "exposed-without-token",
      severity: "high",
      message: `the gateway listens on ${host}, reachable from other machines, ${authOff ? 'with gateway.auth.mode "none"' : "with no token"}: anyone who reaches it can read and change every session`,
      fix: authOff
        ? 'remove gateway.auth.mode "none" and give each client a token in gateway.auth.tokens, or set gateway.host to 127.0.0.1'
        : `give each client a token in gateway.auth.tokens (or set gateway.auth.token / OPENCLAW_GATEWAY_TOKEN; generate one with \`${GENERATE}\`), or set gateway.host to 127.0.0.1`,
    });
  }
  for (const t of tokens) {
    if (t.secret === undefined) continue;
    const why = tokenWeakness(t.secret);
    if (why === undefined) continue;
    findings.push({
      id: "weak-token",
      severity: exposed ? "high" : "medium",
      message: `the token in ${t.where} is weak: ${why}`,
      fix: `replace it with a random one of at least 32 characters, e.g. \`${GENERATE}\``,
    });
  }
  // On loopback one token for the operator's own tools is fine; reachable from other machines, or
  // once several clients got named credentials, each should hold only what it needs.
  const named = tokens.filter((t) => t.where.startsWith("gateway.auth.tokens"));
  if (tokens.length > 0 && tokens.every((t) => t.allScopes) && (exposed || named.length > 1)) {
    const which = tokens.length === 1 ? `one token (${tokens[0]?.where}) holds` : `every token (${tokens.map((t) => t.where).join(", ")}) holds`;
    findings.push({
      id: "all-scopes-token",
      severity: exposed ? "medium" : "low",
      message: `${which} every scope (${ALL_SCOPE_NAMES.join(", ")}), so each client can do anything: a leaked chat client's token reads and changes every session`,
      fix: "give each client its own entry in gateway.auth.tokens with only the scopes it needs: chat for apps, route for the bot router, hooks for channel webhooks, admin:read and admin:write for the dashboard",
    });
  }
  for (const u of upstreamsOf(raw)) {
    let url: URL;
    try {
      url = new URL(u.url);
    } catch {
      continue;
    }
    if (url.protocol !== "http:" || isLoopbackHost(url.hostname)) continue;
    findings.push({
      id: "upstream-plain-http",
      severity: u.keyed ? "high" : "medium",
      message: `${u.where} sends conversations${u.keyed ? " and the API key" : ""} over plain http to ${url.host}, readable by anyone on the way`,
      fix: `use https:// for ${u.where}, or reach ${url.host} through a loopback address (an SSH tunnel or a local TLS proxy)`,
    });
  }
  if (exposed && obj(gateway.metrics).public === true) {
    findings.push({
      id: "metrics-public",
      severity: "low",
      message: `gateway.metrics.public serves /metrics without a token while the gateway listens on ${host}: anyone who reaches it sees its traffic, model names, token counts and memory`,
      fix: "remove gateway.metrics.public and give the scraper a token with the admin:read scope in gateway.auth.tokens, or set gateway.host to 127.0.0.1",
    });
  }
  const storage = obj(raw.storage);
  if (exposed && storage.encryption === undefined) {
    findings.push({
      id: "encryption-off",
      severity: "medium",
      message: `sessions are stored unencrypted while the gateway listens on ${host}, reachable from other machines`,
      fix: 'set storage.encryption to { "keyEnv": "OPENCLAW_STORE_KEY" } (or { "keyFile": "<path>" }) so message contents, summaries and preferences are encrypted at rest',
    });
  }
  return findings;
}

/** The key file `storage.encryption.keyFile` names, if any: its mode is checked with the state's files. */
export function keyFileOf(rawConfig: unknown): string | undefined {
  return str(obj(obj(obj(rawConfig).storage).encryption).keyFile);
}
