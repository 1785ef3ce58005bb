import {
  context,
  trace,
  type Attributes,
  type AttributeValue,
  type Context,
  type Link,
  type Span,
  type SpanContext,
  type SpanOptions,
  type TimeInput,
  type Tracer,
} from '@opentelemetry/api';

/** Which spans of an instrumentation only repeat their parent (same request, same handler). */
export type FoldRule = (name: string, options: SpanOptions | undefined) => boolean;

/**
 * Stands for a span folded into its parent: nothing is created or exported. Its context is the
 * parent's, so child spans and log lines link to the parent, and attributes and events set on it
 * (`trace.getActiveSpan()?.setAttribute(...)` in a handler) land on the parent. Status and
 * exceptions are not passed on: the parent's own instrumentation records the same error, and a
 * Fastify error status on a 4xx must not mark the HTTP server span as failed.
 */
class FoldedSpan implements Span {
  constructor(private readonly parent: Span) {}

  spanContext(): SpanContext {
    return this.parent.spanContext();
  }
  setAttribute(key: string, value: AttributeValue): this {
    this.parent.setAttribute(key, value);
    return this;
  }
  setAttributes(attributes: Attributes): this {
    this.parent.setAttributes(attributes);
    return this;
  }
  addEvent(name: string, attributesOrStartTime?: Attributes | TimeInput, startTime?: TimeInput): this {
    this.parent.addEvent(name, attributesOrStartTime, startTime);
    return this;
  }
  addLink(link: Link): this {
    this.parent.addLink(link);
    return this;
  }
  addLinks(links: Link[]): this {
    this.parent.addLinks(links);
    return this;
  }
  setStatus(): this {
    return this;
  }
  updateName(): this {
    return this;
  }
  end(): void {}
  isRecording(): boolean {
    return this.parent.isRecording();
  }
  recordException(): void {}
}

/**
 * A tracer that folds the spans `fold` selects into their parent, when the parent is a span of this
 * process that is recorded; everything else goes to `tracer` unchanged.
 */
export function foldingTracer(tracer: Tracer, fold: FoldRule): Tracer {
  return {
    startSpan(name: string, options?: SpanOptions, ctx?: Context): Span {
      if (fold(name, options)) {
        const parent = trace.getSpan(ctx ?? context.active());
        if (parent?.isRecording()) return new FoldedSpan(parent);
      }
      return tracer.startSpan(name, options, ctx);
    },
    // Not used by the instrumentations folded here; passed through as is.
    startActiveSpan: tracer.startActiveSpan.bind(tracer) as Tracer['startActiveSpan'],
  };
}

/** Keeps one folding tracer per underlying tracer (instrumentations read theirs per request). */
export class FoldingTracerCache {
  private of?: Tracer;
  private folded?: Tracer;

  constructor(private readonly fold: FoldRule) {}

  get(tracer: Tracer): Tracer {
    if (this.of !== tracer || !this.folded) {
      this.of = tracer;
      this.folded = foldingTracer(tracer, this.fold);
    }
    return this.folded;
  }
}
