import { readdirSync, readFileSync } from "node:fs";
import { Hono, type Context } from "hono";

const STATIC = new URL("./static/", import.meta.url);

/** Every response of the dashboard: scripts and styles from this origin only, no inline code, no framing. */
export const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/** Content types by file extension: what the folder may hold and serve. */
const TYPES: Record<string, string> = { js: "text/javascript; charset=utf-8", css: "text/css; charset=utf-8", svg: "image/svg+xml", html: "text/html; charset=utf-8" };

const typeOf = (name: string): string | undefined => TYPES[name.slice(name.lastIndexOf(".") + 1)];

/**
 * The dashboard at `/`: a static page (the login form and the app shell),
 * its modules and style under `/assets/`, and its icon at `/favicon.svg`
 * and `/favicon.ico` (the same SVG, which browsers accept there). They
 * hold no data: everything shown is fetched from `/admin` with the token
 * the page asks for, so nothing needs auth here.
 */
export function dashboardRouter(): Hono {
  // Read once at start: the files ship in dist/ next to this module.
  const files = new Map<string, string>();
  for (const name of readdirSync(STATIC)) if (typeOf(name) !== undefined) files.set(name, readFileSync(new URL(name, STATIC), "utf8"));
  const app = new Hono();
  const headers = (type: string, cache = "no-cache") => ({ "content-type": type, "content-security-policy": CSP, "x-content-type-options": "nosniff", "referrer-policy": "no-referrer", "cache-control": cache });
  app.get("/", (c) => c.body(files.get("index.html") ?? "", 200, headers("text/html; charset=utf-8")));
  // The icon changes only with a release: a day in the cache spares a request per page.
  const icon = (c: Context) => c.body(files.get("favicon.svg") ?? "", 200, headers("image/svg+xml", "max-age=86400"));
  app.get("/favicon.svg", icon);
  app.get("/favicon.ico", icon);
  app.get("/assets/:name", (c) => {
    const name = c.req.param("name");
    const body = files.get(name);
    const type = typeOf(name);
    if (body === undefined || type === undefined || name === "index.html") return c.text("not found", 404, headers("text/plain; charset=utf-8"));
    return c.body(body, 200, headers(type));
  });
  return app;
}
