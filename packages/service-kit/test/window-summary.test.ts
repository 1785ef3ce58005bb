import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { WindowSummary } from '../src/window-summary';

function summary(registry = new Registry()) {
  const s = new WindowSummary({
    name: 'd_seconds',
    help: 'durations',
    labelNames: ['route'] as const,
    percentiles: [0.5, 0.9, 0.99],
    maxAgeSeconds: 600,
    ageBuckets: 5,
    registers: [registry],
  });
  return { s, registry };
}

const quantile = (text: string, route: string, q: string) => {
  const m = new RegExp(`^d_seconds\\{quantile="${q}",route="${route}"\\} (\\S+)$`, 'm').exec(text);
  assert.ok(m, `no quantile ${q} for ${route} in\n${text}`);
  return Number(m[1]);
};

test('quantiles within 1 % of the exact ones, exact _sum and _count, one series per label set, in the Prometheus summary format', async () => {
  const { s, registry } = summary();
  let sum = 0;
  for (let ms = 1; ms <= 1000; ms++) {
    s.observe({ route: '/a' }, ms / 1000);
    sum += ms / 1000;
  }
  s.observe({ route: '/b' }, 0.25);
  const text = await registry.metrics();
  assert.match(text, /^# TYPE d_seconds summary$/m);
  for (const [q, exact] of [['0.5', 0.5], ['0.9', 0.9], ['0.99', 0.99]] as const) {
    const v = quantile(text, '/a', q);
    assert.ok(Math.abs(v - exact) / exact <= 0.01, `quantile ${q}: ${v}, exact ${exact}`);
  }
  assert.ok(Math.abs(quantile(text, '/b', '0.5') - 0.25) <= 0.0025);
  assert.match(text, /^d_seconds_count\{route="\/a"\} 1000$/m);
  const got = Number(/^d_seconds_sum\{route="\/a"\} (\S+)$/m.exec(text)?.[1]);
  assert.ok(Math.abs(got - sum) < 1e-9, `_sum ${got}, expected ${sum}`);
  assert.match(text, /^d_seconds_count\{route="\/b"\} 1$/m);
});

test('the quantiles cover the last age buckets only; _sum and _count stay cumulative', async () => {
  const { s, registry } = summary();
  s.observe({ route: '/a' }, 0.1);
  s.rotate();
  s.observe({ route: '/a' }, 0.3);
  // Both are in the window: 4 of the 5 buckets still hold the first.
  assert.ok(quantile(await registry.metrics(), '/a', '0.99') >= 0.29);
  for (let i = 0; i < 4; i++) s.rotate();
  let text = await registry.metrics();
  assert.ok(Math.abs(quantile(text, '/a', '0.5') - 0.3) <= 0.003, 'the first observation has aged out');
  s.rotate();
  text = await registry.metrics();
  assert.equal(quantile(text, '/a', '0.5'), 0, 'an empty window answers 0, as prom-client does');
  assert.match(text, /^d_seconds_count\{route="\/a"\} 2$/m);
});

test('durations outside 1 µs to 100 s are clamped, not lost', async () => {
  const { s, registry } = summary();
  s.observe({ route: '/a' }, 0);
  s.observe({ route: '/a' }, 1e6);
  const text = await registry.metrics();
  assert.match(text, /^d_seconds_count\{route="\/a"\} 2$/m);
  assert.ok(quantile(text, '/a', '0.99') >= 99);
});
