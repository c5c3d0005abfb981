import type { Counter, Histogram } from "prom-client";
import type { FoldTiming, SessionManager, StoreOp } from "../manager/manager.js";

/** The prefix of every metric the gateway exports. */
export const METRIC_PREFIX = "openclaw_";

/** How a turn ended, as the turn counter labels it. */
export type TurnOutcome = "ok" | "command" | "error" | "aborted";

// Seconds. Requests and model calls run from milliseconds (an in-chat command) to minutes (a long streamed reply).
const REQUEST_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
// A store operation is a file read or a query: sub-millisecond to a slow disk's second.
const STORE_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
// Model names can come from chat (`/new <model>`): past this many, the rest share one label value.
const MAX_MODELS = 50;

// A fold is an offline summary (tens of milliseconds) or a model's (seconds to the compaction timeout).
const FOLD_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

/**
 * The gateway's Prometheus metrics, in a registry of their own (never
 * prom-client's global one, so an application embedding the gateway keeps
 * its own): turns, appends, folds, HTTP errors and latency, upstream
 * latency and tokens, store operation latency, live and cached sessions,
 * and prom-client's process metrics (event-loop lag, memory, CPU, GC).
 */
export class GatewayMetrics {
  private readonly models = new Set<string>();

  private constructor(
    private readonly registry: import("prom-client").Registry,
    private readonly m: {
      turns: Counter<"route" | "outcome">;
      appends: Counter;
      folds: Counter<"outcome">;
      foldSeconds: Histogram;
      httpErrors: Counter<"route" | "code">;
      requestSeconds: Histogram<"route">;
      upstreamSeconds: Histogram<"model">;
      promptTokens: Counter<"model">;
      completionTokens: Counter<"model">;
      storeSeconds: Histogram<"op">;
    },
  ) {}

  /** Loads prom-client (only a gateway pays for it) and registers every metric; the gauges ask `manager` when scraped. */
  static async create(manager: SessionManager): Promise<GatewayMetrics> {
    const prom = await import("prom-client");
    const registry = new prom.Registry();
    const registers = [registry];
    const name = (n: string) => `${METRIC_PREFIX}${n}`;
    prom.collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX });
    new prom.Gauge({
      name: name("live_sessions"),
      help: "Sessions that would take a message now (created or active, not expired), as the store counts them",
      registers,
      async collect() {
        try {
          this.set(await manager.liveSessions());
        } catch {
          // A store that does not answer leaves the last figure; /ready says why.
        }
      },
    });
    new prom.Gauge({
      name: name("session_cache_size"),
      help: "Session documents held in this process's cache (sessions.cacheSize at most)",
      registers,
      collect() {
        this.set(manager.cachedSessions());
      },
    });
    const metrics = new GatewayMetrics(registry, {
      turns: new prom.Counter({ name: name("turns_total"), help: "Turns run, by route and outcome (ok, command, error, aborted)", labelNames: ["route", "outcome"] as const, registers }),
      appends: new prom.Counter({ name: name("appends_total"), help: "Messages appended to sessions by this process", registers }),
      folds: new prom.Counter({ name: name("folds_total"), help: "Folds of old turns into a summary, by outcome (ok, failed, error)", labelNames: ["outcome"] as const, registers }),
      foldSeconds: new prom.Histogram({ name: name("fold_duration_seconds"), help: "Time a fold took, summarizer and commit included", buckets: FOLD_BUCKETS, registers }),
      httpErrors: new prom.Counter({ name: name("http_errors_total"), help: "Responses with a 4xx or 5xx status, by route pattern and status code", labelNames: ["route", "code"] as const, registers }),
      requestSeconds: new prom.Histogram({
        name: name("http_request_duration_seconds"),
        help: "Time from a request's arrival to its response's end, by route pattern",
        labelNames: ["route"] as const,
        buckets: REQUEST_BUCKETS,
        registers,
      }),
      upstreamSeconds: new prom.Histogram({
        name: name("upstream_duration_seconds"),
        help: "Time a model call took (a streamed one to its last chunk), by model",
        labelNames: ["model"] as const,
        buckets: REQUEST_BUCKETS,
        registers,
      }),
      promptTokens: new prom.Counter({ name: name("upstream_prompt_tokens_total"), help: "Prompt tokens the upstream reported, by model", labelNames: ["model"] as const, registers }),
      completionTokens: new prom.Counter({ name: name("upstream_completion_tokens_total"), help: "Completion tokens the upstream reported, by model", labelNames: ["model"] as const, registers }),
      storeSeconds: new prom.Histogram({
        name: name("store_operation_duration_seconds"),
        help: "Time a store operation took, by operation (get, revision, commit, append)",
        labelNames: ["op"] as const,
        buckets: STORE_BUCKETS,
        registers,
      }),
    });
    return metrics;
  }

  /** A turn ended. */
  turn(route: string, outcome: TurnOutcome): void {
    this.m.turns.inc({ route, outcome });
  }

  /** A message was appended by this process. */
  appended(): void {
    this.m.appends.inc();
  }

  /** A fold ran. */
  fold(fold: FoldTiming): void {
    this.m.folds.inc({ outcome: fold.outcome });
    this.m.foldSeconds.observe(fold.ms / 1000);
  }

  /** A request ended; `route` is its pattern (never the raw path). */
  request(route: string, status: number, ms: number, timed: boolean): void {
    if (status >= 400) this.m.httpErrors.inc({ route, code: String(status) });
    if (timed) this.m.requestSeconds.observe({ route }, ms / 1000);
  }

  /** A model call ended; usage when the upstream reported it. The first 50 model names are labels of their own, later ones "other". */
  upstream(name: string, ms: number, usage: { prompt: number; completion: number } | undefined): void {
    if (!this.models.has(name) && this.models.size < MAX_MODELS) this.models.add(name);
    const model = this.models.has(name) ? name : "other";
    this.m.upstreamSeconds.observe({ model }, ms / 1000);
    if (usage !== undefined) {
      this.m.promptTokens.inc({ model }, usage.prompt);
      this.m.completionTokens.inc({ model }, usage.completion);
    }
  }

  /** A store operation ended. */
  storeOp(op: StoreOp, ms: number): void {
    this.m.storeSeconds.observe({ op }, ms / 1000);
  }

  /** The exposition: Prometheus text format and its content type. */
  async render(): Promise<{ body: string; contentType: string }> {
    return { body: await this.registry.metrics(), contentType: this.registry.contentType };
  }
}
