import { barGauge, dashboard, datasourceVariable, q, stat, THRESHOLD, timeseries, UNIT, UP_DOWN } from '../grafana';
import { errorRatio, quantile, rate, SERVICES_RE, sumBy } from '../promql';

/** Drill-down into the per-service dashboard, keeping the datasource and the time range. */
const toService = (label: string) => ({
  title: 'Open ${__field.labels.' + label + '} in Meridian service',
  url: '/d/meridian-service/meridian-service?var-service=${__field.labels.' + label + '}&${datasource:queryparam}&${__url_time_range}',
});

export const overview = dashboard({
  uid: 'meridian-overview',
  title: 'Meridian overview',
  description: 'Every Meridian service at a glance: up/down, traffic, 5xx share and latency, by service and by route.',
  tags: ['meridian'],
  variables: [datasourceVariable('datasource', 'prometheus', 'Prometheus')],
  rows: [
    {
      title: 'Status',
      panels: [
        stat({
          title: 'App status',
          description: 'Whether Prometheus can scrape each service (`up`): UP (1) or DOWN (0). Click a tile for the service dashboard.',
          queries: [q(`up{job=~"${SERVICES_RE}"}`, '{{job}}')],
          valueMappings: UP_DOWN,
          thresholds: THRESHOLD.up,
          colorMode: 'background',
          showName: true,
          links: [toService('job')],
          w: 24,
          h: 4,
        }),
        stat({
          title: 'Requests/s',
          description: 'Requests per second answered by all services together.',
          queries: [q(sumBy([], rate('http_requests_total')))],
          unit: UNIT.reqps,
          sparkline: true,
          decimals: 2,
          w: 8,
        }),
        stat({
          title: '5xx share',
          description: 'Share of all requests answered with a 5xx status.',
          queries: [q(errorRatio([]))],
          unit: UNIT.ratio,
          thresholds: THRESHOLD.errorRatio,
          sparkline: true,
          decimals: 2,
          w: 8,
        }),
        stat({
          title: 'p95 latency',
          description: '95th percentile of the request duration, all services together (http_request_duration_seconds).',
          queries: [q(quantile(0.95, 'http_request_duration_seconds', '', []))],
          unit: UNIT.seconds,
          thresholds: THRESHOLD.latency,
          sparkline: true,
          w: 8,
        }),
      ],
    },
    {
      title: 'Traffic and errors',
      panels: [
        timeseries({
          title: 'Requests per second by route',
          description: 'Requests answered per second, by service and route template (unknown paths share route="unmatched").',
          queries: [q(sumBy(['job', 'route'], rate('http_requests_total')), '{{job}} {{route}}')],
          unit: UNIT.reqps,
          min: 0,
        }),
        timeseries({
          title: 'Error ratio (5xx share) per service',
          description: 'Share of each service\'s requests answered 5xx. Dashed lines: 1% (the 99% SLO budget) and 5% (HighErrorRatio).',
          queries: [q(errorRatio(['job']), '{{job}}')],
          unit: UNIT.ratio,
          thresholds: THRESHOLD.errorRatio,
          showThresholds: true,
          min: 0,
        }),
      ],
    },
    {
      title: 'Latency',
      panels: [
        timeseries({
          title: 'Request duration p50 / p95 / p99 per service',
          description: 'Quantiles of http_request_duration_seconds per service. Dashed lines: 0.5 s (HighLatencyP95) and 1 s.',
          queries: [
            q(quantile(0.5, 'http_request_duration_seconds', '', ['job']), 'p50 {{job}}'),
            q(quantile(0.95, 'http_request_duration_seconds', '', ['job']), 'p95 {{job}}'),
            q(quantile(0.99, 'http_request_duration_seconds', '', ['job']), 'p99 {{job}}'),
          ],
          unit: UNIT.seconds,
          thresholds: THRESHOLD.latency,
          showThresholds: true,
          w: 24,
          h: 9,
        }),
      ],
    },
    {
      title: 'Endpoints',
      panels: [
        barGauge({
          title: 'Requests per second by route (last 5 min)',
          description: 'sum(rate(http_requests_total[5m])) by (route): the busiest endpoints. A route served by several services (/, /predict) adds them up.',
          queries: [q('sum(rate(http_requests_total[5m])) by (route)', '{{route}}')],
          unit: UNIT.reqps,
          min: 0,
          decimals: 2,
        }),
        barGauge({
          title: 'p95 duration by route (last 5 min)',
          description: '95th percentile of http_request_duration_seconds per route over the last 5 minutes: the slowest endpoints.',
          queries: [q(quantile(0.95, 'http_request_duration_seconds', '', ['route'], '5m'), '{{route}}')],
          unit: UNIT.seconds,
          thresholds: THRESHOLD.latency,
          min: 0,
        }),
      ],
    },
    {
      title: 'Example gauge',
      panels: [
        timeseries({
          title: 'node_gauge_example',
          description: 'Duration in seconds of the last /example task of service-a: a plain gauge, set by each call to /example.',
          queries: [q('node_gauge_example', '{{job}} {{instance}}')],
          unit: UNIT.seconds,
          min: 0,
          w: 18,
        }),
        stat({
          title: 'Last /example task',
          description: 'node_gauge_example now.',
          queries: [q(`max(node_gauge_example)`)],
          unit: UNIT.seconds,
          w: 6,
          h: 8,
        }),
      ],
    },
  ],
});
