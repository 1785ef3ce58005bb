import { Counter, Histogram, register } from 'prom-client';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { isUntracedPath } from './telemetry/untraced-paths';
import { WindowSummary } from './window-summary';

/** The request metrics of the telemetry contract; dashboards and alerts rely on these names. */
const labelNames = ['method', 'route', 'status_code'] as const;

function once<T>(name: string, make: () => T): T {
  return (register.getSingleMetric(name) as T | undefined) ?? make();
}

export const httpRequestsTotal = once(
  'http_requests_total',
  () => new Counter({ name: 'http_requests_total', help: 'HTTP requests answered, by method, route template and status code', labelNames }),
);

export const httpRequestDuration = once(
  'http_request_duration_seconds',
  () =>
    new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request duration in seconds',
      labelNames,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    }),
);

export const httpRequestDurationSummary = once(
  'http_request_duration_summary_seconds',
  () =>
    new WindowSummary({
      name: 'http_request_duration_summary_seconds',
      help: 'HTTP request duration in seconds (quantiles over the last 10 minutes)',
      labelNames,
      percentiles: [0.5, 0.9, 0.95, 0.99],
      maxAgeSeconds: 600,
      ageBuckets: 5,
    }),
);

const started = new WeakMap<FastifyRequest, bigint>();

/** Routes that matched nothing share one label value, so random paths cannot blow up cardinality. */
export const UNMATCHED_ROUTE = 'unmatched';

export function installHttpMetrics(fastify: FastifyInstance): void {
  fastify.addHook('onRequest', (request, _reply, done) => {
    started.set(request, process.hrtime.bigint());
    done();
  });
  fastify.addHook('onResponse', (request, reply, done) => {
    const start = started.get(request);
    if (start !== undefined && !isUntracedPath(request.url)) {
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      const labels = {
        method: request.method,
        route: request.routeOptions?.url ?? UNMATCHED_ROUTE,
        status_code: String(reply.statusCode),
      };
      httpRequestsTotal.inc(labels);
      httpRequestDuration.observe(labels, seconds);
      httpRequestDurationSummary.observe(labels, seconds);
    }
    done();
  });
}
