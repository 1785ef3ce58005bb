import { dashboard, datasourceVariable, q, queryVariable, stat, THRESHOLD, timeseries, UNIT } from '../grafana';
import { rate, sumBy } from '../promql';

// k6 runs push their metrics to Prometheus through remote write (`-o experimental-prometheus-rw`,
// k6 v1.8.1, go.k6.io/k6/internal/output/prometheusrw), configured with
// K6_PROMETHEUS_RW_TREND_STATS=p(95),p(99),avg,max and K6_PROMETHEUS_RW_TREND_AS_NATIVE_HISTOGRAM=false.
// Names (prefix k6_): counters get `_total` (k6_http_reqs_total, k6_iterations_total,
// k6_data_sent_total), rates `_rate` (k6_checks_rate, k6_http_req_failed_rate), gauges keep their
// name (k6_vus, k6_vus_max), and each trend becomes one gauge per stat, `p(95)` → `_p95`
// (k6_http_req_duration_p95, _p99, _avg, _max) with time values in SECONDS despite the missing
// unit suffix. Every series carries the run's tags, among them `testid` (--tag testid=...).
// A trend's stats are per series (per request name, status, ...): across series the dashboard
// shows the worst (max), which is exact for max and an upper bound for the percentiles.

const T = 'testid=~"$testid"';

export const k6 = dashboard({
  uid: 'meridian-k6',
  title: 'Meridian k6 load tests',
  description: 'k6 runs against Meridian, pushed to Prometheus by k6\'s remote write output: virtual users, request rate, latency trends, failures and checks, by test id.',
  tags: ['meridian', 'k6'],
  from: 'now-1h',
  variables: [
    datasourceVariable('datasource', 'prometheus', 'Prometheus'),
    queryVariable({ name: 'testid', label: 'Test id', query: 'label_values(k6_vus, testid)', includeAll: true, multi: true, allValue: '.*' }),
  ],
  rows: [
    {
      title: 'Run',
      panels: [
        stat({
          title: 'Virtual users',
          description: 'Active virtual users (k6_vus).',
          queries: [q(`sum(k6_vus{${T}})`)],
          unit: UNIT.count,
          sparkline: true,
          w: 4,
        }),
        stat({
          title: 'Requests/s',
          description: 'HTTP requests made per second (k6_http_reqs_total).',
          queries: [q(sumBy([], rate(`k6_http_reqs_total{${T}}`)))],
          unit: UNIT.reqps,
          sparkline: true,
          decimals: 1,
          w: 4,
        }),
        stat({
          title: 'Failed requests',
          description: 'Share of requests k6 counted as failed (k6_http_req_failed_rate: not an expected status), worst series.',
          queries: [q(`max(k6_http_req_failed_rate{${T}})`)],
          unit: UNIT.ratio,
          thresholds: THRESHOLD.errorRatio,
          colorMode: 'background',
          decimals: 2,
          w: 4,
        }),
        stat({
          title: 'Checks passed',
          description: 'Share of checks that passed (k6_checks_rate), worst check.',
          queries: [q(`min(k6_checks_rate{${T}})`)],
          unit: UNIT.ratio,
          thresholds: THRESHOLD.checks,
          colorMode: 'background',
          decimals: 2,
          w: 4,
        }),
        stat({
          title: 'p95 request duration',
          description: 'k6_http_req_duration_p95, worst request name.',
          queries: [q(`max(k6_http_req_duration_p95{${T}})`)],
          unit: UNIT.seconds,
          thresholds: THRESHOLD.latency,
          sparkline: true,
          w: 4,
        }),
        stat({
          title: 'Iterations/s',
          description: 'Script iterations completed per second (k6_iterations_total).',
          queries: [q(sumBy([], rate(`k6_iterations_total{${T}}`)))],
          unit: UNIT.ops,
          sparkline: true,
          decimals: 1,
          w: 4,
        }),
      ],
    },
    {
      title: 'Load and throughput',
      panels: [
        timeseries({
          title: 'Virtual users',
          description: 'Active and maximum allowed virtual users, per test id.',
          queries: [q(`sum by (testid) (k6_vus{${T}})`, 'vus {{testid}}'), q(`sum by (testid) (k6_vus_max{${T}})`, 'max {{testid}}')],
          unit: UNIT.count,
          min: 0,
        }),
        timeseries({
          title: 'Requests per second by status',
          description: 'HTTP requests per second by status code (0 = no answer: timeout, connection refused).',
          queries: [q(sumBy(['status'], rate(`k6_http_reqs_total{${T}}`)), '{{status}}')],
          unit: UNIT.reqps,
          stack: true,
          min: 0,
        }),
        timeseries({
          title: 'Requests per second by name',
          description: 'HTTP requests per second by request name (the URL, or the `name` tag the script sets).',
          queries: [q(sumBy(['name'], rate(`k6_http_reqs_total{${T}}`)), '{{name}}')],
          unit: UNIT.reqps,
          min: 0,
        }),
        timeseries({
          title: 'Data sent and received',
          description: 'Bytes per second k6 sent and received.',
          queries: [
            q(sumBy([], rate(`k6_data_sent_total{${T}}`)), 'sent'),
            q(sumBy([], rate(`k6_data_received_total{${T}}`)), 'received'),
          ],
          unit: UNIT.bytesPerSecond,
          min: 0,
        }),
      ],
    },
    {
      title: 'Latency',
      panels: [
        timeseries({
          title: 'Request duration (p95, p99, avg, max)',
          description: 'k6_http_req_duration trend stats, worst request name for each. Dashed lines: 0.5 s and 1 s.',
          queries: [
            q(`max(k6_http_req_duration_p95{${T}})`, 'p95'),
            q(`max(k6_http_req_duration_p99{${T}})`, 'p99'),
            q(`max(k6_http_req_duration_avg{${T}})`, 'avg'),
            q(`max(k6_http_req_duration_max{${T}})`, 'max'),
          ],
          unit: UNIT.seconds,
          thresholds: THRESHOLD.latency,
          showThresholds: true,
          min: 0,
        }),
        timeseries({
          title: 'p95 request duration by name',
          description: 'k6_http_req_duration_p95 per request name.',
          queries: [q(`max by (name) (k6_http_req_duration_p95{${T}})`, '{{name}}')],
          unit: UNIT.seconds,
          thresholds: THRESHOLD.latency,
          showThresholds: true,
          min: 0,
        }),
        timeseries({
          title: 'Time to first byte vs connecting (p95)',
          description: 'Where a request\'s time goes: waiting for the server (k6_http_req_waiting) against opening connections (k6_http_req_connecting).',
          queries: [
            q(`max(k6_http_req_waiting_p95{${T}})`, 'waiting p95'),
            q(`max(k6_http_req_connecting_p95{${T}})`, 'connecting p95'),
          ],
          unit: UNIT.seconds,
          min: 0,
        }),
        timeseries({
          title: 'Iteration duration (p95, avg)',
          description: 'One whole script iteration (k6_iteration_duration), sleeps included.',
          queries: [q(`max(k6_iteration_duration_p95{${T}})`, 'p95'), q(`max(k6_iteration_duration_avg{${T}})`, 'avg')],
          unit: UNIT.seconds,
          min: 0,
        }),
      ],
    },
    {
      title: 'Failures and checks',
      panels: [
        timeseries({
          title: 'Failed requests by name',
          description: 'k6_http_req_failed_rate per request name: the share of its requests with an unexpected status.',
          queries: [q(`max by (name) (k6_http_req_failed_rate{${T}})`, '{{name}}')],
          unit: UNIT.ratio,
          thresholds: THRESHOLD.errorRatio,
          showThresholds: true,
          min: 0,
        }),
        timeseries({
          title: 'Checks passed by check',
          description: 'k6_checks_rate per check: the share of its evaluations that passed.',
          queries: [q(`min by (check) (k6_checks_rate{${T}})`, '{{check}}')],
          unit: UNIT.ratio,
          min: 0,
          max: 1,
        }),
      ],
    },
  ],
});
