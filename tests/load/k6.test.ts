// The k6 load test (loadtest/) run for real: `npm run load` (scripts/load.mjs) drives the pinned k6
// binary against the local stack that `npm start` runs, and against a deliberately slow stand-in
// for service-a whose thresholds must fail. Everything on 127.0.0.1, every run bounded in time.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { type CommandResult, freePort, LocalStack, poll, REPO_ROOT, request, runCommand, toolPath } from '@meridian/test-kit';

// The script loads its edge images at init, so even `k6 inspect` needs them: make them first, as
// `npm run load` does (a fresh clone has none; they are generated, not committed).
before(async () => {
  const { makeImages } = (await import(pathToFileURL(path.join(REPO_ROOT, 'loadtest/make-images.mjs')).href)) as {
    makeImages: () => Promise<void>;
  };
  await makeImages();
});

const HOST = '127.0.0.1';
const LOAD = path.join(REPO_ROOT, 'scripts', 'load.mjs');

/** The `route` tags of service-a's mix, and the edge's. /crash is never part of it. */
const SERVICE_A_ROUTES = ['/', '/healthy', '/ready', '/example', '/logs', '/call-service-b', '/hash', '/serverError', '/notFound'];
const ALL_ROUTES = [...SERVICE_A_ROUTES, '/preprocessing'];

/** Runs a command from the repo root to completion, SIGTERM if it outlives timeoutMs (k6 then writes its summary), SIGKILL 10 s later. */
function run(cmd: string, args: string[], env: Record<string, string>, timeoutMs: number): Promise<CommandResult> {
  return runCommand(cmd, args, { cwd: REPO_ROOT, env: { ...process.env, NO_COLOR: '1', K6_NO_USAGE_REPORT: 'true', ...env }, timeoutMs, graceMs: 10_000 });
}

/** `k6 inspect`: the options a profile resolves to, without running it. */
async function inspect(profile: string, env: Record<string, string> = {}): Promise<Record<string, any>> {
  const args = ['inspect', '--execution-requirements', '-e', `PROFILE=${profile}`];
  for (const [k, v] of Object.entries(env)) args.push('-e', `${k}=${v}`);
  const r = await run(toolPath('k6'), [...args, 'loadtest/main.ts'], {}, 30_000);
  assert.equal(r.code, 0, `k6 inspect ${profile}:\n${r.output}`);
  return JSON.parse(r.output);
}

/** Go duration ("2h4m30s", "25s") → seconds. */
function seconds(duration: string): number {
  let total = 0;
  for (const [, n, unit] of duration.matchAll(/([\d.]+)(h|m(?!s)|s|ms)/g)) total += Number(n) * ({ h: 3600, m: 60, s: 1, ms: 0.001 } as Record<string, number>)[unit];
  return total;
}

interface Summary {
  meridian: { profile: string; testid: string };
  metrics: Record<string, { type: string; values: Record<string, number>; thresholds?: Record<string, { ok: boolean }> }>;
  root_group: { checks: { name: string; passes: number; fails: number }[] };
}

function readSummary(dir: string, profile: string): Summary {
  const file = path.join(dir, `${profile}-summary.json`);
  assert.ok(existsSync(file), `handleSummary wrote ${file}`);
  return JSON.parse(readFileSync(file, 'utf8')) as Summary;
}

describe('k6 profiles', () => {
  test('every profile resolves; smoke is short, soak long, all scale with LOAD_DURATION_SCALE', async () => {
    const listed = await run(process.execPath, [LOAD, '--list'], {}, 10_000);
    const names = listed.output.trim().split('\n');
    // The script's own list (from profiles.ts) is what scripts/load.mjs offers.
    const unknown = await run(toolPath('k6'), ['inspect', '-e', 'PROFILE=nope', 'loadtest/main.ts'], {}, 30_000);
    assert.notEqual(unknown.code, 0);
    const fromScript = /profiles: ([\w, ]+)/.exec(unknown.output)?.[1].split(', ');
    assert.deepEqual(names, fromScript, unknown.output);
    assert.deepEqual([...names].sort(), ['average', 'hash', 'smoke', 'soak', 'spike', 'stress']);

    const total: Record<string, number> = {};
    for (const name of names) {
      const o = await inspect(name);
      total[name] = seconds(o.totalDuration);
      assert.deepEqual(o.thresholds.http_req_failed, ['rate<0.01'], name);
      assert.deepEqual(o.thresholds.checks, ['rate>0.99'], name);
      assert.equal(o.tags.testid, `${name}-adhoc`);
      const routes = Object.keys(o.thresholds).filter((k) => k.startsWith('http_req_duration{route:'));
      assert.ok(routes.length > 0, `${name} has per-route p95 thresholds`);
      for (const k of routes) assert.match(o.thresholds[k][0], /^p\(95\)<\d+$/, `${name} ${k}`);
      if (name !== 'hash') {
        assert.deepEqual(routes.map((k) => k.slice('http_req_duration{route:'.length, -1)).sort(), [...ALL_ROUTES].sort(), name);
      }
    }
    assert.ok(total.smoke <= 30, `smoke takes at most 30 s (${total.smoke} s)`);
    assert.ok(total.soak >= 3600, `soak runs for hours by default (${total.soak} s)`);
    for (const name of ['average', 'stress', 'spike']) assert.ok(total[name] > 60 && total[name] < total.soak, `${name}: ${total[name]} s`);

    const hash = await inspect('hash');
    assert.deepEqual(Object.keys(hash.scenarios), ['hash']);
    assert.equal(hash.scenarios.hash.executor, 'ramping-vus');
    const stages = (hash.scenarios.hash.stages as { duration: string; target: number }[]).map((s) => [seconds(s.duration), s.target]);
    assert.deepEqual(stages, [[15, 60], [120, 60]], '60 VUs: 15 s ramp, 120 s hold');
    assert.equal(hash.maxVUs, 60);
    assert.deepEqual(Object.keys(hash.thresholds).filter((k) => k.includes('route')), ['http_req_duration{route:/hash}']);

    const soakScaled = await inspect('soak', { LOAD_DURATION_SCALE: '0.01' });
    assert.ok(seconds(soakScaled.totalDuration) < total.soak / 20, `scaled soak: ${soakScaled.totalDuration}`);
    const smokeScaled = await inspect('smoke', { LOAD_DURATION_SCALE: '0.5' });
    assert.equal(seconds(smokeScaled.scenarios.service_a.duration), 10);
  });

  test('the k6 scripts type-check against @types/k6', async () => {
    const tsc = path.join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const r = await run(process.execPath, [tsc, '-p', 'loadtest/tsconfig.json'], {}, 120_000);
    assert.equal(r.code, 0, r.output);
  });

  test('npm run load refuses what it cannot run, with the fix in the message', async () => {
    const unknown = await run(process.execPath, [LOAD, 'nope'], {}, 10_000);
    assert.equal(unknown.code, 2);
    assert.match(unknown.output, /unknown profile "nope"; profiles: smoke, average, stress, spike, soak, hash/);

    const noK6 = await run(process.execPath, [LOAD, 'smoke'], { MERIDIAN_TOOLS_DIR: path.join(tmpdir(), 'meridian-no-tools') }, 10_000);
    assert.equal(noK6.code, 1);
    assert.match(noK6.output, /k6 is not installed .*scripts\/tools\/install\.sh/);

    // A port nothing listens on: the stack is not running.
    const closed = await freePort();
    const noStack = await run(process.execPath, [LOAD, 'smoke'], { SERVICE_A_URL: `http://${HOST}:${closed}`, EDGE_URL: `http://${HOST}:${closed}` }, 20_000);
    assert.equal(noStack.code, 1);
    assert.match(noStack.output, /service-a is not ready at .*\/ready \(ECONNREFUSED\).*start it with npm start/);
  });
});

describe('smoke profile against the real local stack', { timeout: 360_000 }, () => {
  let stack: LocalStack;
  const results = mkdtempSync(path.join(tmpdir(), 'meridian-load-'));
  const testid = `smoke-test-${process.pid}-${Date.now()}`;

  before(async () => {
    toolPath('k6');
    stack = await LocalStack.start();
  });
  after(async () => {
    await stack?.stop();
    rmSync(results, { recursive: true, force: true });
  });

  test('k6 passes every threshold, writes the summary, Prometheus has its metrics and Jaeger its synthetic traces', async (t) => {
    const prometheus = stack.url('prometheus');
    const jaeger = stack.url('jaeger');
    const r = await run(
      process.execPath,
      [LOAD, 'smoke'],
      {
        SERVICE_A_URL: stack.url('service-a'),
        EDGE_URL: stack.url('preprocessing-edge'),
        PROMETHEUS_URL: prometheus,
        LOAD_RESULTS_DIR: results,
        LOAD_TESTID: testid,
      },
      90_000,
    );
    t.diagnostic(`smoke run (k6 + checks): ${(r.ms / 1000).toFixed(1)} s`);
    assert.equal(r.code, 0, `k6 exits 0 when every threshold is met:\n${r.output.slice(-4000)}`);
    assert.match(r.output, /RESULT: all thresholds met/);
    assert.match(r.output, /-o experimental-prometheus-rw/);

    const summary = readSummary(results, 'smoke');
    assert.equal(summary.meridian.testid, testid);
    const checks = summary.root_group.checks;
    assert.ok(checks.length >= 20, `checks in the summary: ${checks.map((c) => c.name).join(', ')}`);
    for (const c of checks) assert.equal(c.fails, 0, `check "${c.name}" failed ${c.fails} times`);
    for (const name of ['/serverError answers 500', '/notFound answers 404', '/call-service-b answers 200', '/preprocessing (raw) continues the client\'s trace']) {
      assert.ok(checks.find((c) => c.name === name && c.passes > 0), `check "${name}" ran`);
    }
    // The 500s and 404s are expected, so nothing failed.
    assert.equal(summary.metrics.http_req_failed.values.rate, 0);
    for (const route of ALL_ROUTES) {
      const m = summary.metrics[`http_req_duration{route:${route}}`];
      assert.ok(m, `per-route metric for ${route}`);
      assert.ok(m.values.count > 0 && m.values['p(95)'] > 0, `${route}: ${JSON.stringify(m.values)}`);
      assert.deepEqual(Object.values(m.thresholds ?? {}), [{ ok: true }], route);
    }

    // k6 remote-writes to the stack's Prometheus; the testid tag becomes a label.
    const series = await poll('k6_http_reqs_total in Prometheus', async () => {
      const q = `sum by (route) (k6_http_reqs_total{testid="${testid}"})`;
      const res = await request(`${prometheus}/api/v1/query?query=${encodeURIComponent(q)}`);
      const rows = res.json?.data?.result as { metric: { route: string }; value: [number, string] }[] | undefined;
      return rows && rows.length >= ALL_ROUTES.length ? rows : undefined;
    });
    assert.deepEqual(series.map((s) => s.metric.route).sort(), [...ALL_ROUTES].sort());
    for (const name of ['k6_http_req_duration_p95', 'k6_http_req_duration_p99', 'k6_checks_rate', 'k6_http_req_failed_rate']) {
      const res = await request(`${prometheus}/api/v1/query?query=${encodeURIComponent(`count(${name}{testid="${testid}"})`)}`);
      assert.ok(Number(res.json?.data?.result?.[0]?.value?.[1]) > 0, `${name} in Prometheus: ${res.text}`);
    }

    // The services copied the load's baggage onto their spans: the load shows as synthetic in Jaeger.
    const tags = JSON.stringify({ 'meridian.synthetic': 'true', 'meridian.loadtest': testid });
    const traces = await poll('synthetic service-a traces in Jaeger', async () => {
      const res = await request(`${jaeger}/api/traces?service=service-a&limit=20&lookback=1h&tags=${encodeURIComponent(tags)}`);
      const data = res.json?.data as { spans: { operationName: string }[] }[] | undefined;
      return data?.length ? data : undefined;
    });
    assert.ok(traces.length > 0);
    const edge = await request(`${jaeger}/api/traces?service=preprocessing-edge&limit=1&lookback=1h&tags=${encodeURIComponent(tags)}`);
    assert.ok(edge.json?.data?.length > 0, `synthetic edge traces in Jaeger: ${edge.text.slice(0, 300)}`);
  });
});

describe('thresholds fail when the service is slow', { timeout: 120_000 }, () => {
  const DELAY_MS = 800;
  const seen: { method: string; path: string; traceparent?: string; baggage?: string }[] = [];
  let server: Server;
  let base: string;
  const results = mkdtempSync(path.join(tmpdir(), 'meridian-load-slow-'));

  /** Stands in for service-a and the edge: the right answer to every route, 800 ms late. */
  function answer(req: IncomingMessage): { status: number; type: string; body: unknown } {
    const p = (req.url ?? '/').split('?')[0];
    const traceId = String(req.headers.traceparent ?? '').split('-')[1];
    const problem = (status: number) => ({ status, type: 'application/problem+json', body: { type: 'urn:meridian:problem:x', status } });
    const ok = (body: unknown) => ({ status: 200, type: 'application/json', body });
    if (req.method === 'POST' && p === '/hash') return ok({ algorithm: 'sha256', digest: 'ab'.repeat(32) });
    if (req.method === 'POST' && p === '/preprocessing') return ok({ traceId, top5: [1, 2, 3, 4, 5].map((index) => ({ index })) });
    if (p === '/serverError') return problem(500);
    if (p === '/notFound') return problem(404);
    if (p === '/call-service-b') return ok({ service: 'service-a', from: 'service-b' });
    if (['/', '/healthy', '/ready', '/example', '/logs'].includes(p)) return ok({ service: 'service-a', status: 'ok' });
    return problem(404);
  }

  before(async () => {
    server = createServer((req, res) => {
      seen.push({ method: req.method ?? '', path: req.url ?? '', traceparent: req.headers.traceparent as string, baggage: req.headers.baggage as string });
      req.resume();
      req.on('end', () => {
        setTimeout(() => {
          const a = answer(req);
          res.writeHead(a.status, { 'content-type': a.type }).end(JSON.stringify(a.body));
        }, DELAY_MS);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
    base = `http://${HOST}:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    rmSync(results, { recursive: true, force: true });
  });

  test('k6 exits 99 and the summary names the missed p95 thresholds', async (t) => {
    const testid = 'slow-double';
    const r = await run(
      process.execPath,
      [LOAD, 'smoke', '--no-remote-write'],
      { SERVICE_A_URL: base, EDGE_URL: base, LOAD_DURATION_SCALE: '0.25', LOAD_RESULTS_DIR: results, LOAD_TESTID: testid },
      60_000,
    );
    t.diagnostic(`slow run: ${(r.ms / 1000).toFixed(1)} s`);
    assert.equal(r.code, 99, `k6 exits 99 when thresholds are crossed:\n${r.output.slice(-4000)}`);
    assert.doesNotMatch(r.output, /experimental-prometheus-rw/);
    assert.match(r.output, /FAIL http_req_duration\{route:\/call-service-b\}\s+p\(95\)<300/);

    const summary = readSummary(results, 'smoke');
    const cb = summary.metrics['http_req_duration{route:/call-service-b}'];
    assert.ok(cb.values['p(95)'] >= DELAY_MS, JSON.stringify(cb.values));
    assert.deepEqual(cb.thresholds, { 'p(95)<300': { ok: false } });
    // Only latency is wrong: the answers were right, and the 500/404 are expected, not failures.
    assert.deepEqual(summary.metrics.checks.thresholds, { 'rate>0.99': { ok: true } });
    assert.deepEqual(summary.metrics.http_req_failed.thresholds, { 'rate<0.01': { ok: true } });
    assert.deepEqual(summary.metrics['http_req_duration{route:/example}'].thresholds, { 'p(95)<1100': { ok: true } });

    // What a real client sends: the whole mix but /crash, each request its own sampled trace, marked synthetic.
    const load = seen.filter((s) => s.path !== '/ready' || s.traceparent);
    const paths = new Set(load.map((s) => s.path));
    for (const route of ALL_ROUTES) assert.ok(paths.has(route), `${route} was requested (${[...paths].join(', ')})`);
    assert.ok(!paths.has('/crash'));
    const traceIds = new Set<string>();
    for (const s of load) {
      assert.match(s.traceparent ?? '', /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/, `${s.method} ${s.path}`);
      traceIds.add(s.traceparent!.split('-')[1]);
      assert.equal(s.baggage, `meridian.synthetic=true,meridian.loadtest=${testid}`);
    }
    assert.equal(traceIds.size, load.length, 'a new trace id for every request');
  });
});
