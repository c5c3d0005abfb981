import { readFileSync } from "node:fs";
import { Hono } from "hono";

const STATIC = new URL("./static/", import.meta.url);

/** Every response of the dashboard: scripts and styles from this origin only, no inline code, no framing. */
export const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const TYPES: Record<string, string> = { "app.js": "text/javascript; charset=utf-8", "names.js": "text/javascript; charset=utf-8", "text.js": "text/javascript; charset=utf-8", "style.css": "text/css; charset=utf-8" };

/**
 * The dashboard at `/`: a static page (the login form and the app shell) and
 * its assets. They hold no data: everything shown is fetched from
 * `/admin` with the token the page asks for, so nothing needs auth here.
 */
export function dashboardRouter(): Hono {
  // Read once at start: the files ship in dist/ next to this module.
  const files = new Map<string, string>();
  for (const name of ["index.html", "app.js", "names.js", "text.js", "style.css"]) files.set(name, readFileSync(new URL(name, STATIC), "utf8"));
  const app = new Hono();
  const headers = (type: string) => ({ "content-type": type, "content-security-policy": CSP, "x-content-type-options": "nosniff", "referrer-policy": "no-referrer", "cache-control": "no-cache" });
  app.get("/", (c) => c.body(files.get("index.html") ?? "", 200, headers("text/html; charset=utf-8")));
  app.get("/assets/:name", (c) => {
    const name = c.req.param("name");
    const body = files.get(name);
    const type = TYPES[name];
    if (body === undefined || type === undefined) return c.text("not found", 404, headers("text/plain; charset=utf-8"));
    return c.body(body, 200, headers(type));
  });
  return app;
}
