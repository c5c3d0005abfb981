import { Hono } from "hono";
import type { GatewayDeps } from "../_deps.js";

/** Routes of this API surface (being built). */
export function responsesRouter(_deps: GatewayDeps): Hono {
  return new Hono();
}
