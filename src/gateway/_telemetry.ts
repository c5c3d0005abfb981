import { isOpenclawError } from "../errors.js";
import type { SessionManager } from "../manager/manager.js";
import { ActivityLog } from "./_activity.js";
import { GatewayMetrics, type TurnOutcome } from "./_metrics.js";
import { Tracing, usageAttributes } from "./_tracing.js";

/** Token usage in the upstream's words. */
interface UsageLike {
  prompt_tokens: number;
  completion_tokens: number;
}

/** What a turn is watched through while it runs. */
export interface TurnProbe {
  /** The turn's session is known. */
  session(id: string): void;
  /** A model call starts; end it with `done` or `fail`. */
  upstream(model: string): UpstreamProbe;
}

/** One model call being watched. */
export interface UpstreamProbe {
  done(responseModel: string | undefined, usage: UsageLike | null): void;
  fail(err: unknown): void;
}

const tokens = (u: UsageLike | null | undefined) => (u ? { prompt: count(u.prompt_tokens), completion: count(u.completion_tokens) } : undefined);
const count = (n: unknown): number => (typeof n === "number" && Number.isFinite(n) && n >= 0 ? n : 0);

/**
 * What the gateway observes of itself: Prometheus metrics, the last hour
 * of turns for the dashboard, and OpenTelemetry spans. Made when a gateway
 * starts (prom-client and the OTel API are loaded then, never by the CLI).
 */
export class Telemetry {
  /** The last hour of turns, per minute (`/admin/activity`). */
  readonly activity = new ActivityLog();
  /** When the gateway started (epoch ms). */
  readonly startedAt = Date.now();
  private readonly stops: Array<() => void> = [];

  private constructor(
    readonly metrics: GatewayMetrics,
    private readonly tracing: Tracing,
  ) {}

  /** Loads the metrics and tracing libraries and starts watching `manager` (store timings, folds, appends). */
  static async start(manager: SessionManager): Promise<Telemetry> {
    const [metrics, tracing] = await Promise.all([GatewayMetrics.create(manager), Tracing.load()]);
    const t = new Telemetry(metrics, tracing);
    t.stops.push(
      manager.observe({
        storeOp: (op, ms) => metrics.storeOp(op, ms),
        fold: (f) => {
          metrics.fold(f);
          tracing.fold(f.sessionId, f.startedAt, f.ms, f.folded, f.outcome);
        },
      }),
      manager.subscribe((e) => {
        if (e.origin === "local" && e.type === "appended") metrics.appended();
      }),
    );
    return t;
  }

  /** Stops watching the manager. */
  stop(): void {
    for (const stop of this.stops.splice(0)) stop();
  }

  /** A request ended (from the request log). Long-lived event streams are left out of the latency histogram. */
  request(route: string | null, status: number, ms: number): void {
    this.metrics.request(route ?? "unmatched", status, ms, route !== "/admin/events");
  }

  /**
   * Runs a turn that came through `route`, counting it, timing it into the
   * activity log and tracing it.
   */
  turn<T extends { usage: UsageLike | null; command?: unknown }>(route: string, run: (probe: TurnProbe) => Promise<T>): Promise<T> {
    const started = performance.now();
    return this.tracing.turn(route, async (span, ctx) => {
      let sessionId: string | undefined;
      const probe: TurnProbe = {
        session: (id) => {
          sessionId = id;
          span.setAttribute("openclaw.session.id", id);
        },
        upstream: (name) => this.upstream(ctx, name, sessionId),
      };
      let outcome: TurnOutcome = "error";
      let usage: ReturnType<typeof tokens>;
      try {
        const result = await run(probe);
        outcome = result.command !== undefined ? "command" : "ok";
        usage = tokens(result.usage);
        span.setAttributes({ ...usageAttributes({ responseModel: undefined, usage }), "openclaw.turn.outcome": outcome });
        span.end();
        return result;
      } catch (err) {
        outcome = isOpenclawError(err, "ABORTED") ? "aborted" : "error";
        span.setAttribute("openclaw.turn.outcome", outcome);
        this.tracing.fail(span, err);
        throw err;
      } finally {
        const ms = performance.now() - started;
        this.metrics.turn(route, outcome);
        this.activity.record(Date.now(), { ms, failed: outcome === "error", promptTokens: usage?.prompt ?? 0, completionTokens: usage?.completion ?? 0 });
      }
    });
  }

  private upstream(ctx: Parameters<Tracing["upstream"]>[0], model: string, sessionId: string | undefined): UpstreamProbe {
    const started = performance.now();
    const span = this.tracing.upstream(ctx, model, sessionId);
    return {
      done: (responseModel, usage) => {
        const u = tokens(usage);
        this.metrics.upstream(model, performance.now() - started, u);
        this.tracing.endUpstream(span, { responseModel, usage: u });
      },
      fail: (err) => {
        this.metrics.upstream(model, performance.now() - started, undefined);
        this.tracing.fail(span, err);
      },
    };
  }
}
