import { Hono } from "hono";
import { OpenclawError } from "../errors.js";
import type { GatewayDeps } from "./_deps.js";
import { authenticate, type AuthTable } from "./_auth.js";
import { requestGuard, type GuardOptions } from "./_guard.js";
import { errorResponse } from "./_http.js";
import { rateLimit, RateLimiter } from "./_rate-limit.js";
import { requestLog } from "./_request-log.js";
import { adminRouter } from "./admin.js";
import { activityRouter, metricsHandler, readyHandler } from "./observability.js";
import { dashboardRouter } from "./dashboard/serve.js";
import { hooksRouter } from "./hooks.js";
import { chatRouter } from "./openai/chat.js";
import { conversationsRouter } from "./openai/conversations.js";
import { modelsRouter } from "./openai/models.js";
import { responsesRouter } from "./openai/responses.js";

/**
 * The gateway's hono app: `/health` and `/ready` (open), `/v1`
 * (OpenAI-compatible), `/admin`, `/hooks` and `/metrics` behind a credential
 * with the scope each needs (`/metrics` open when gateway.metrics.public),
 * every route behind the request guard, and one error shape for all.
 */
export function createApp(deps: GatewayDeps, auth: AuthTable, guard: Omit<GuardOptions, "log">): Hono {
  const app = new Hono();
  // First, so every request (refused ones included) gets an id and one log line.
  const telemetry = deps.telemetry;
  app.use("*", requestLog(deps.log, telemetry === undefined ? undefined : (route, status, ms) => telemetry.request(route, status, ms)));
  // Then, before auth: a request from a hostile page is refused the same with or without a token.
  app.use("*", requestGuard({ ...guard, log: deps.log }));
  app.get("/health", (c) => c.json({ status: "ok" }));
  app.get("/ready", readyHandler(deps));
  if (!deps.manager.config.gateway.metrics.public) app.use("/metrics", authenticate(auth, "metrics"));
  app.get("/metrics", metricsHandler(deps));
  app.use("/v1/*", authenticate(auth, "v1"));
  app.use("/admin/*", authenticate(auth, "admin"));
  app.use("/hooks/*", authenticate(auth, "hooks"));
  // After auth, so buckets are keyed by the credential the request proved.
  const limits = new RateLimiter(deps.manager.config.gateway.rateLimits);
  if (limits.enabled) {
    app.use("/v1/*", rateLimit(limits));
    app.use("/hooks/*", rateLimit(limits));
    deps = { ...deps, rateLimits: limits };
  }
  const v1 = new Hono();
  v1.route("/", modelsRouter(deps));
  v1.route("/", chatRouter(deps));
  v1.route("/", responsesRouter(deps));
  v1.route("/", conversationsRouter(deps));
  app.route("/v1", v1);
  app.route("/admin", adminRouter(deps));
  app.route("/admin", activityRouter(deps));
  app.route("/hooks", hooksRouter(deps));
  app.route("/", dashboardRouter());
  app.notFound((c) => errorResponse(c, new OpenclawError("NOT_FOUND", `no route for ${c.req.method} ${new URL(c.req.url).pathname}`)));
  app.onError((err, c) => errorResponse(c, err));
  return app;
}
