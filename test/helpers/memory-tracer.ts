import { randomBytes } from "node:crypto";
import {
  context as contextApi,
  trace,
  TraceFlags,
  type Attributes,
  type AttributeValue,
  type Context,
  type Span,
  type SpanContext,
  type SpanOptions,
  type SpanStatus,
  type TimeInput,
  type Tracer,
  type TracerProvider,
} from "@opentelemetry/api";

/** A span as the in-memory provider recorded it. */
export interface RecordedSpan {
  name: string;
  scope: string;
  kind: number | undefined;
  attributes: Attributes;
  status: SpanStatus;
  traceId: string;
  spanId: string;
  /** The parent's span id, undefined for a root span. */
  parentSpanId: string | undefined;
  startTime: number;
  endTime: number | undefined;
  exceptions: unknown[];
}

const ms = (t: TimeInput | undefined): number => (t === undefined ? Date.now() : typeof t === "number" ? t : t instanceof Date ? t.getTime() : t[0] * 1000 + t[1] / 1e6);

class MemorySpan implements Span {
  constructor(
    private readonly ctx: SpanContext,
    private readonly rec: RecordedSpan,
    private readonly ended: (s: RecordedSpan) => void,
  ) {}
  spanContext(): SpanContext {
    return this.ctx;
  }
  setAttribute(key: string, value: AttributeValue): this {
    this.rec.attributes[key] = value;
    return this;
  }
  setAttributes(attributes: Attributes): this {
    Object.assign(this.rec.attributes, attributes);
    return this;
  }
  addEvent(): this {
    return this;
  }
  addLink(): this {
    return this;
  }
  addLinks(): this {
    return this;
  }
  setStatus(status: SpanStatus): this {
    this.rec.status = status;
    return this;
  }
  updateName(name: string): this {
    this.rec.name = name;
    return this;
  }
  end(endTime?: TimeInput): void {
    if (this.rec.endTime !== undefined) return;
    this.rec.endTime = ms(endTime);
    this.ended(this.rec);
  }
  isRecording(): boolean {
    return this.rec.endTime === undefined;
  }
  recordException(exception: unknown): void {
    this.rec.exceptions.push(exception);
  }
}

/**
 * A tracer provider that keeps every ended span in memory: just enough of
 * the OpenTelemetry API's interfaces to see what an instrumented library
 * reports, without an SDK.
 */
export class MemoryTracerProvider implements TracerProvider {
  readonly spans: RecordedSpan[] = [];

  getTracer(name: string): Tracer {
    const startSpan = (spanName: string, options: SpanOptions = {}, ctx: Context = contextApi.active()): Span => {
      const parent = trace.getSpanContext(ctx);
      const spanContext: SpanContext = { traceId: parent?.traceId ?? randomBytes(16).toString("hex"), spanId: randomBytes(8).toString("hex"), traceFlags: TraceFlags.SAMPLED };
      const rec: RecordedSpan = {
        name: spanName,
        scope: name,
        kind: options.kind,
        attributes: { ...(options.attributes ?? {}) },
        status: { code: 0 },
        traceId: spanContext.traceId,
        spanId: spanContext.spanId,
        parentSpanId: parent?.spanId,
        startTime: ms(options.startTime),
        endTime: undefined,
        exceptions: [],
      };
      return new MemorySpan(spanContext, rec, (s) => this.spans.push(s));
    };
    const startActiveSpan = ((spanName: string, ...rest: unknown[]) => {
      const fn = rest.pop() as (span: Span) => unknown;
      const [options, ctx] = rest as [SpanOptions | undefined, Context | undefined];
      const span = startSpan(spanName, options, ctx);
      return contextApi.with(trace.setSpan(ctx ?? contextApi.active(), span), fn, undefined, span);
    }) as Tracer["startActiveSpan"];
    return { startSpan, startActiveSpan };
  }
}
