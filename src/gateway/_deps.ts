import type { SessionManager } from "../manager/manager.js";
import type { ModelClient } from "../model/client.js";
import type { EventLog } from "./_events.js";
import type { GatewayLog } from "./_log.js";
import type { RateLimiter } from "./_rate-limit.js";
import type { Telemetry } from "./_telemetry.js";
import type { TurnRunner } from "./_turn.js";

/** What every router of the gateway is given. */
export interface GatewayDeps {
  manager: SessionManager;
  /** The upstream model; undefined when none is configured (model endpoints answer 503). */
  model: ModelClient | undefined;
  turns: TurnRunner;
  events: EventLog;
  /** Structured log (requests, auth failures, admin changes, 500s). */
  log: GatewayLog;
  /** Largest request body accepted. */
  maxBodyBytes: number;
  /** Fires when the gateway shuts down: in-flight work stops. */
  shutdown: AbortSignal;
  /** Fires as soon as shutdown begins: streams that never finish by themselves (events) end now, not after the grace period. */
  draining: AbortSignal;
  /** Per-credential and per-sender limits, when configured (routes that find their sender in the body check it themselves). */
  rateLimits?: RateLimiter | undefined;
  /** Metrics, the activity log and traces (`/metrics`, `/admin/activity`); absent, those routes answer 503. */
  telemetry?: Telemetry | undefined;
}
