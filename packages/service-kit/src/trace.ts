import { trace } from '@opentelemetry/api';

/** The id of the trace the caller is in, or undefined when tracing is off. */
export function currentTraceId(): string | undefined {
  const ctx = trace.getActiveSpan()?.spanContext();
  return ctx && ctx.traceId !== '00000000000000000000000000000000' ? ctx.traceId : undefined;
}
