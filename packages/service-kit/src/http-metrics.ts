import { register, type Registry } from 'prom-client';
import type { FastifyInstance } from 'fastify';
import { isUntracedPath } from './telemetry/untraced-paths';
import { WindowSummary } from './window-summary';

/** The request metrics of the telemetry contract; dashboards and alerts rely on these names. */
const labelNames = ['method', 'route', 'status_code'] as const;
type Labels = Record<(typeof labelNames)[number], string>;

const TOTAL = { name: 'http_requests_total', help: 'HTTP requests answered, by method, route template and status code' };
const DURATION = { name: 'http_request_duration_seconds', help: 'HTTP request duration in seconds' };
const SUMMARY = { name: 'http_request_duration_summary_seconds', help: 'HTTP request duration in seconds (quantiles over the last 10 minutes)' };
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Routes that matched nothing share one label value, so random paths cannot blow up cardinality. */
export const UNMATCHED_ROUTE = 'unmatched';

interface Series {
  labels: Labels;
  count: number;
  sum: number;
  /** Requests per bucket, not cumulative; the last one is above the largest bound (+Inf). */
  buckets: number[];
  summary: { observe(seconds: number): void };
}

interface Sample {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}

/**
 * http_requests_total (counter), http_request_duration_seconds (histogram) and
 * http_request_duration_summary_seconds (summary), recorded once per request into one record per
 * label set, and rendered at each scrape by prom-client's registry with its names, types, labels
 * and buckets. A request costs one lookup and a few additions: prom-client's Counter.inc and
 * Histogram.observe each validated and hashed the labels again on every request. The counter is
 * the histogram's count, as it always was: both were counted for the same requests.
 */
export class RequestMetrics {
  private readonly series = new Map<string, Series>();
  private readonly summary: WindowSummary<(typeof labelNames)[number]>;

  constructor(registry: Registry = register) {
    registry.registerMetric(this.metric(TOTAL.name, TOTAL.help, 'counter', () => this.totals()) as never);
    registry.registerMetric(this.metric(DURATION.name, DURATION.help, 'histogram', () => this.durations()) as never);
    this.summary = new WindowSummary({ ...SUMMARY, labelNames, percentiles: [0.5, 0.9, 0.95, 0.99], maxAgeSeconds: 600, ageBuckets: 5, registers: [registry] });
  }

  record(method: string, route: string, statusCode: number, seconds: number): void {
    const key = `${method} ${route} ${statusCode}`;
    let s = this.series.get(key);
    if (!s) {
      const labels: Labels = { method, route, status_code: String(statusCode) };
      s = { labels, count: 0, sum: 0, buckets: new Array<number>(BUCKETS.length + 1).fill(0), summary: this.summary.child(labels) };
      this.series.set(key, s);
    }
    s.count++;
    s.sum += seconds;
    let b = 0;
    while (b < BUCKETS.length && seconds > BUCKETS[b]) b++;
    s.buckets[b]++;
    s.summary.observe(seconds);
  }

  private totals(): Sample[] {
    return [...this.series.values()].map((s) => ({ labels: s.labels, value: s.count }));
  }

  private durations(): Sample[] {
    const values: Sample[] = [];
    const bucket = `${DURATION.name}_bucket`;
    for (const s of this.series.values()) {
      let cumulative = 0;
      BUCKETS.forEach((le, i) => {
        cumulative += s.buckets[i];
        values.push({ metricName: bucket, labels: { le, ...s.labels }, value: cumulative });
      });
      values.push({ metricName: bucket, labels: { le: '+Inf', ...s.labels }, value: s.count });
      values.push({ metricName: `${DURATION.name}_sum`, labels: s.labels, value: s.sum });
      values.push({ metricName: `${DURATION.name}_count`, labels: s.labels, value: s.count });
    }
    return values;
  }

  /** What prom-client's registry asks of a metric: its name, help and type, and its samples at each scrape. */
  private metric(name: string, help: string, type: 'counter' | 'histogram', values: () => Sample[]) {
    return {
      name,
      help,
      type,
      aggregator: 'sum',
      get: async () => ({ name, help, type, aggregator: 'sum', values: values() }),
      reset: () => {
        this.series.clear();
        this.summary.reset();
      },
    };
  }
}

/** One per registry: the services' tests start several apps in one process. */
const recorders = new WeakMap<Registry, RequestMetrics>();

export function requestMetrics(registry: Registry = register): RequestMetrics {
  let m = recorders.get(registry);
  if (!m) {
    m = new RequestMetrics(registry);
    recorders.set(registry, m);
  }
  return m;
}

export function installHttpMetrics(fastify: FastifyInstance, registry: Registry = register): void {
  const metrics = requestMetrics(registry);
  fastify.addHook('onResponse', (request, reply, done) => {
    // Fastify times every reply from its arrival (reply.elapsedTime, in ms).
    if (!isUntracedPath(request.url)) metrics.record(request.method, request.routeOptions?.url ?? UNMATCHED_ROUTE, reply.statusCode, reply.elapsedTime / 1e3);
    done();
  });
}
