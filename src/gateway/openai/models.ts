import { Hono } from "hono";
import { OpenclawError } from "../../errors.js";
import type { GatewayDeps } from "../_deps.js";
import { errorResponse } from "../_http.js";

/**
 * `GET /v1/models` and `/v1/models/{id}`: the one upstream model the gateway
 * serves (clients probe these before anything else).
 */
export function modelsRouter(deps: GatewayDeps): Hono {
  const app = new Hono();
  const started = Math.floor(Date.now() / 1000);
  const entry = (id: string) => ({ id, object: "model", created: started, owned_by: "openclaw" });
  app.get("/models", (c) => c.json({ object: "list", data: deps.model === undefined ? [] : [entry(deps.model.model)] }));
  app.get("/models/:id{.+}", (c) => {
    const id = c.req.param("id");
    if (deps.model === undefined || id !== deps.model.model) return errorResponse(c, new OpenclawError("NOT_FOUND", `the model ${JSON.stringify(id)} does not exist on this gateway`));
    return c.json(entry(id));
  });
  return app;
}
