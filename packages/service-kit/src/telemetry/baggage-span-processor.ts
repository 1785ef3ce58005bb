import { Context, propagation } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace-base';

/** Baggage keys with this prefix are copied onto every span, so the edge site id shows on cloud spans. */
export const BAGGAGE_ATTRIBUTE_PREFIX = 'meridian.';

export class BaggageSpanProcessor implements SpanProcessor {
  onStart(span: Span, parentContext: Context): void {
    const baggage = propagation.getBaggage(parentContext);
    if (!baggage) return;
    for (const [key, entry] of baggage.getAllEntries()) {
      if (key.startsWith(BAGGAGE_ATTRIBUTE_PREFIX)) span.setAttribute(key, entry.value);
    }
  }
  onEnd(_span: ReadableSpan): void {}
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}
