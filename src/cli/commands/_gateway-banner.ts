import type { Config } from "../../config/schema.js";
import type { StoreLocation } from "../../config/locate.js";
import { redactStoreUri, redactUrl } from "../../config/redact.js";
import type { SingleToken } from "../../gateway/token-file.js";

/** What a starting gateway tells its operator: one block for a person, the same as one JSON object for a script. */
export interface GatewayBanner {
  url: string;
  /** The dashboard's address (without the token: that goes in the fragment, see {@link bannerLines}). */
  dashboard: string;
  /** "token" or "none". */
  auth: string;
  /** Where the token the clients use comes from, in words. */
  authDetail: string;
  /** The generated token, on the start that generated it only. */
  token?: string;
  /** The file the generated token is kept in. */
  tokenFile?: string;
  /** Where the single token came from: "env", "config" or "file". */
  tokenSource?: string;
  model: {
    /** The model name turns go to, or null with no model configured (model endpoints answer 503). */
    name: string | null;
    /** "openai-compatible" (an upstream), "echo" (built-in, offline) or null. */
    provider: string | null;
    /** The upstream's base URL, credentials removed. */
    baseUrl?: string;
    /** Context window sessions are planned in, and the model it is resolved from (sessions.model). */
    window: number;
    windowModel: string;
  };
  /** The store URI with any password removed, and where it was chosen. */
  store: { uri: string; source: string };
}

/** Builds the start-up facts of a gateway on `url`. */
export function gatewayBanner(input: { url: string; config: Config; single: SingleToken | undefined; window: { model: string; window: number }; store: StoreLocation }): GatewayBanner {
  const { url, config, single } = input;
  const auth = config.gateway.auth;
  const model = config.gateway.model;
  const authDetail =
    auth.mode === "none"
      ? "none: no token asked (loopback only)"
      : single === undefined
        ? `token: one of the ${(auth.tokens ?? []).length} credentials in gateway.auth.tokens`
        : single.source === "env"
          ? "token: from OPENCLAW_GATEWAY_TOKEN"
          : single.source === "config"
            ? "token: from gateway.auth.token in the config"
            : single.created
              ? `token: generated now, kept in ${single.path ?? "the state dir"} (shown this once; \`openclaw gateway token\` shows it again)`
              : `token: kept in ${single.path ?? "the state dir"} (\`openclaw gateway token\` shows it)`;
  const provider = model === undefined ? null : "provider" in model && model.provider === "echo" ? "echo" : "openai-compatible";
  return {
    url,
    dashboard: `${url}/`,
    auth: auth.mode,
    authDetail,
    ...(single?.created === true ? { token: single.token } : {}),
    ...(single?.path !== undefined ? { tokenFile: single.path } : {}),
    ...(single !== undefined ? { tokenSource: single.source } : {}),
    model: {
      name: model?.model ?? null,
      provider,
      ...(model !== undefined && "baseUrl" in model && model.baseUrl !== undefined ? { baseUrl: redactUrl(model.baseUrl) } : {}),
      window: input.window.window,
      windowModel: input.window.model,
    },
    store: { uri: redactStoreUri(input.store.uri), source: input.store.source },
  };
}

/** The block printed on a terminal: the URL first (scripts may wait for it), then one labelled line per fact. */
export function bannerLines(b: GatewayBanner): string[] {
  const m = b.model;
  const window = `window ${m.window.toLocaleString("en-US")} tokens (${m.windowModel})`;
  const model =
    m.provider === null
      ? "none: set gateway.model in config.json (or try `--model echo`); model endpoints answer 503"
      : m.provider === "echo"
        ? `${m.name ?? "echo"} (built-in echo, offline, NOT for production) · ${window}`
        : `${m.name ?? "?"} at ${m.baseUrl ?? "?"} · ${window}`;
  const lines = [`listening on ${b.url}`, `auth:      ${b.authDetail}`];
  if (b.token !== undefined) lines.push(`  ${b.token}`);
  lines.push(`model:     ${model}`, `store:     ${b.store.uri} (${b.store.source})`);
  // The dashboard reads a token in the fragment, which never leaves the browser.
  lines.push(`dashboard: ${b.dashboard}${b.token !== undefined ? `#token=${encodeURIComponent(b.token)}` : b.auth === "none" ? "" : " (sign in with the gateway token)"}`);
  return lines;
}

/** The JSON line of `gateway --json`: the same facts, without the prose. */
export function bannerJson(b: GatewayBanner): Record<string, unknown> {
  const { authDetail: _words, ...rest } = b;
  return rest;
}
