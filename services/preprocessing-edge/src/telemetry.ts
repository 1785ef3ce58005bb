import { Attributes, Span, SpanStatusCode, trace } from '@opentelemetry/api';
import { HttpException } from '@nestjs/common';
import { Histogram, register } from 'prom-client';

export type Stage = 'decode' | 'resize' | 'normalize' | 'inference' | 'total';

const METRIC = 'preprocessing_duration_seconds';

/** Duration of each successful pipeline stage; total covers one whole successful request. */
export const preprocessingDuration =
  (register.getSingleMetric(METRIC) as Histogram<'stage'> | undefined) ??
  new Histogram({
    name: METRIC,
    help: 'Duration of the edge preprocessing stages in seconds (decode, resize, normalize, inference, total), successful requests',
    labelNames: ['stage'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  });

export const tracer = trace.getTracer('meridian-preprocessing-edge');

export function elapsedMs(startedAt: number): number {
  return performance.now() - startedAt;
}

/** Milliseconds rounded to 0.01 for answers. */
export function roundMs(ms: number): number {
  return Math.round(ms * 100) / 100;
}

/**
 * Runs one stage in its own child span and times it. Client errors (4xx) are noted on the span
 * without marking it failed, so a stream of bad uploads does not read as a server fault.
 */
export async function runStage<T>(
  stage: Exclude<Stage, 'total' | 'inference'>,
  attributes: Attributes,
  fn: (span: Span) => Promise<T>,
): Promise<{ value: T; ms: number }> {
  return tracer.startActiveSpan(`preprocessing.${stage}`, { attributes }, async (span) => {
    const startedAt = performance.now();
    try {
      const value = await fn(span);
      const ms = elapsedMs(startedAt);
      preprocessingDuration.observe({ stage }, ms / 1000);
      return { value, ms };
    } catch (err) {
      if (err instanceof HttpException && err.getStatus() < 500) {
        const body = err.getResponse() as { type?: string };
        span.setAttribute('error.type', body.type ?? String(err.getStatus()));
      } else {
        span.recordException(err as Error);
        span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
      }
      throw err;
    } finally {
      span.end();
    }
  });
}
