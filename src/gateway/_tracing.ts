import type { Attributes, Context, Span } from "@opentelemetry/api";

type Api = typeof import("@opentelemetry/api");

/** The instrumentation scope spans are reported under. */
export const TRACER_NAME = "openclaw-sessions";

/** What the upstream answered, for the model call's span. */
export interface UpstreamDone {
  responseModel: string | undefined;
  usage: { prompt: number; completion: number } | undefined;
}

/**
 * OpenTelemetry spans of the gateway: a turn, the model call inside it and a
 * fold, named and attributed after the GenAI semantic conventions. Through
 * `@opentelemetry/api` only: every call is a no-op until the application
 * registers a tracer provider (an SDK), and the gateway adds no exporter.
 */
export class Tracing {
  private constructor(private readonly api: Api) {}

  /** Loads the API (small, and only when a gateway starts). */
  static async load(): Promise<Tracing> {
    return new Tracing(await import("@opentelemetry/api"));
  }

  private tracer() {
    // Asked each time: a provider registered after the gateway started is still used.
    return this.api.trace.getTracer(TRACER_NAME);
  }

  /** Starts a turn's span; `run` executes with it as the active span (for a registered context manager). */
  turn<T>(route: string, run: (span: Span, ctx: Context) => Promise<T>): Promise<T> {
    const { context, trace, SpanKind } = this.api;
    const span = this.tracer().startSpan("openclaw.turn", {
      kind: SpanKind.SERVER,
      // The model is the upstream call's to name: a session may send its turns to a model of its own.
      attributes: { "openclaw.route": route, "gen_ai.operation.name": "chat", ...provider() },
    });
    const ctx = trace.setSpan(context.active(), span);
    return context.with(ctx, () => run(span, ctx));
  }

  /** Starts the span of a model call under `parent`; the caller ends it with {@link endUpstream} or {@link fail}. */
  upstream(parent: Context | undefined, model: string, sessionId: string | undefined): Span {
    return this.tracer().startSpan(
      `chat ${model}`,
      {
        kind: this.api.SpanKind.CLIENT,
        attributes: { "gen_ai.operation.name": "chat", "gen_ai.request.model": model, ...provider(), ...(sessionId !== undefined ? { "openclaw.session.id": sessionId } : {}) },
      },
      parent ?? this.api.context.active(),
    );
  }

  /** Ends a model call's span with what the upstream answered. */
  endUpstream(span: Span, done: UpstreamDone): void {
    span.setAttributes(usageAttributes(done));
    span.end();
  }

  /** Ends a span as failed with `err`. */
  fail(span: Span, err: unknown): void {
    const error = err instanceof Error ? err : new Error(String(err));
    span.recordException(error);
    span.setAttribute("error.type", (err as { code?: unknown }).code !== undefined ? String((err as { code: unknown }).code) : error.name);
    span.setStatus({ code: this.api.SpanStatusCode.ERROR, message: error.message.split("\n")[0] ?? "" });
    span.end();
  }

  /** Records a fold that ran from `startedAt` (epoch ms) for `ms`, under the active span if any. */
  fold(sessionId: string, startedAt: number, ms: number, folded: number, outcome: string): void {
    const span = this.tracer().startSpan("openclaw.fold", { startTime: startedAt, attributes: { "openclaw.session.id": sessionId, "openclaw.fold.messages": folded, "openclaw.fold.outcome": outcome } });
    if (outcome !== "ok") span.setStatus({ code: this.api.SpanStatusCode.ERROR, message: `fold ${outcome}` });
    span.end(startedAt + ms);
  }
}

/** The provider attributes, under the current name and the one it replaced. */
function provider(): Attributes {
  return { "gen_ai.system": "openai", "gen_ai.provider.name": "openai" };
}

/** Response model and usage, as GenAI attributes. */
export function usageAttributes(done: UpstreamDone): Attributes {
  return {
    ...(done.responseModel !== undefined ? { "gen_ai.response.model": done.responseModel } : {}),
    ...(done.usage !== undefined ? { "gen_ai.usage.input_tokens": done.usage.prompt, "gen_ai.usage.output_tokens": done.usage.completion } : {}),
  };
}
