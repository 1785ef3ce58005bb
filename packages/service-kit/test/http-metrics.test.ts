import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Counter, Histogram, Registry } from 'prom-client';
import { RequestMetrics } from '../src/http-metrics';

const labelNames = ['method', 'route', 'status_code'];
// [method, route, status, seconds]: bucket bounds exactly, between them, below and above all.
const REQUESTS: [string, string, number, number][] = [
  ['GET', '/', 200, 0.0031],
  ['GET', '/', 200, 0.005],
  ['GET', '/', 200, 0.0001],
  ['POST', '/hash', 400, 0.2],
  ['GET', 'unmatched', 404, 12],
  ['GET', '/', 200, 0.25],
  ['POST', '/hash', 200, 10],
  ['GET', '/', 500, 1.7],
];

/** The lines of one metric family in a scrape. */
function family(text: string, name: string): string[] {
  return text.split('\n').filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name}_`) || l.endsWith(` ${name}`) || l.includes(` ${name} `));
}

test('the counter and the histogram render exactly what prom-client renders for the same requests', async () => {
  const ours = new Registry();
  const metrics = new RequestMetrics(ours);
  const reference = new Registry();
  const total = new Counter({ name: 'http_requests_total', help: 'HTTP requests answered, by method, route template and status code', labelNames, registers: [reference] });
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration in seconds',
    labelNames,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [reference],
  });
  for (const [method, route, status, seconds] of REQUESTS) {
    metrics.record(method, route, status, seconds);
    const labels = { method, route, status_code: String(status) };
    total.inc(labels);
    duration.observe(labels, seconds);
  }
  const got = await ours.metrics();
  const want = await reference.metrics();
  for (const name of ['http_requests_total', 'http_request_duration_seconds']) {
    assert.ok(family(want, name).length > 2, `the reference renders ${name}`);
    assert.deepEqual(family(got, name), family(want, name), name);
  }
  // The summary's quantiles are checked in window-summary.test.ts; here, that it counts the same requests.
  assert.match(got, /^http_request_duration_summary_seconds_count\{method="GET",route="\/",status_code="200"\} 4$/m);
});

test('after the registry is reset the series start again, the summary included', async () => {
  const registry = new Registry();
  const metrics = new RequestMetrics(registry);
  metrics.record('GET', '/', 200, 0.001);
  registry.resetMetrics();
  assert.doesNotMatch(await registry.metrics(), /status_code=/);
  metrics.record('GET', '/', 200, 0.002);
  const text = await registry.metrics();
  assert.match(text, /^http_requests_total\{method="GET",route="\/",status_code="200"\} 1$/m);
  assert.match(text, /^http_request_duration_summary_seconds_count\{method="GET",route="\/",status_code="200"\} 1$/m);
  assert.match(text, /^http_request_duration_summary_seconds_sum\{method="GET",route="\/",status_code="200"\} 0.002$/m);
});
