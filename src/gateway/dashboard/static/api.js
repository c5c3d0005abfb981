// The admin API with the token this tab keeps.
const TOKEN_KEY = "openclaw.gateway.token";

/** The token this tab signed in with, or null. */
export const token = () => sessionStorage.getItem(TOKEN_KEY);

/** Keeps `value` as this tab's token. */
export const keepToken = (value) => sessionStorage.setItem(TOKEN_KEY, value);

/** Forgets this tab's token. */
export const dropToken = () => sessionStorage.removeItem(TOKEN_KEY);

/** Thrown after a 401: the login form is already shown, nothing else to say. */
export class Unauthorized extends Error {}

/** An answer the API gave with an error status. */
export class HttpError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

let refused = () => {};

/** What to do when the token is refused (show the login form). */
export function onRefused(fn) {
  refused = fn;
}

/** Calls the admin API with the token; a 401 sends the user back to the login form. */
export async function api(path, options = {}) {
  const res = await fetch(path, {
    method: options.method ?? "GET",
    headers: { authorization: `Bearer ${token()}`, ...(options.body !== undefined ? { "content-type": "application/json" } : {}) },
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
  });
  if (res.status === 401) {
    dropToken();
    refused("The token was refused.");
    throw new Unauthorized();
  }
  if (options.raw) return res;
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new HttpError(res.status, body?.error?.message ?? `HTTP ${res.status}`);
  return body;
}
