import type { Config } from "./schema.js";

/** What a secret is shown as. */
export const REDACTED = "[redacted]";

// Query parameters that carry credentials (libpq's password, sslpassword, an api key or token …).
const SECRET_PARAM = /pass|secret|token|key|auth|cred|sig/i;

/** A URL with its secrets hidden: user info that holds a password, and credential-like query values; a URL without them is shown as given. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    // With a password, the user name goes too (it is half of the credential); without one there is nothing to hide.
    if (u.password !== "") {
      u.username = REDACTED;
      u.password = "";
    }
    for (const k of [...u.searchParams.keys()]) if (SECRET_PARAM.test(k)) u.searchParams.set(k, REDACTED);
    return decodeURI(u.toString());
  } catch {
    return url;
  }
}

/** A store URI fit to print: server URIs lose their credentials; file paths and `memory:` are shown as given. */
export function redactStoreUri(uri: string): string {
  const scheme = /^([a-z][a-z0-9+.-]+):/i.exec(uri)?.[1]?.toLowerCase();
  return scheme === undefined || scheme === "file" || scheme === "memory" ? uri : redactUrl(uri);
}

/** A copy of the config fit to print: the gateway tokens hidden, credentials taken out of URLs. */
export function redactConfig(config: Config): Config {
  const copy = structuredClone(config);
  if (copy.gateway.auth.token !== undefined) copy.gateway.auth.token = REDACTED;
  for (const c of copy.gateway.auth.tokens ?? []) if (c.token !== undefined) c.token = REDACTED;
  if (copy.gateway.model !== undefined && copy.gateway.model.provider !== "echo") copy.gateway.model.baseUrl = redactUrl(copy.gateway.model.baseUrl);
  if (copy.storage.uri !== undefined) copy.storage.uri = redactStoreUri(copy.storage.uri);
  if (copy.sessions.summarizer.type === "openai-compatible") copy.sessions.summarizer.baseUrl = redactUrl(copy.sessions.summarizer.baseUrl);
  return copy;
}
