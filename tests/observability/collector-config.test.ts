// The collector and Jaeger configs in observability/ are checked by the real, pinned binaries that
// scripts/tools/install.sh builds (no mocks): `otelcol validate`, then both started for real on
// free loopback ports, a span and a log sent through the pipeline, and the results read back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { type Collector, type LogsStore, otlpTracesJson, REPO_ROOT, runTool, startCollector, startJaeger, startVictoriaLogs } from '@meridian/test-kit';

const HOST = '127.0.0.1';
const collectorConfig = join(REPO_ROOT, 'observability', 'collector', 'config.yaml');

const validate = (config: string, env: NodeJS.ProcessEnv) => runTool('otelcol', ['validate', `--config=${config}`], { env, timeoutMs: 60_000 });

/** The `- gomod: <module> <version>` components of the builder manifest, and whether each is marked cluster-only. */
function manifestComponents(): { module: string; clusterOnly: boolean }[] {
  const manifest = readFileSync(join(REPO_ROOT, 'observability', 'collector', 'builder-config.yaml'), 'utf8');
  return [...manifest.matchAll(/^\s*-\s*gomod:\s*(\S+ \S+)(.*)$/gm)].map((m) => ({ module: m[1], clusterOnly: /#\s*cluster-only\s*$/.test(m[2]) }));
}

/** The component modules a built collector reports (`otelcol components`). */
async function builtModules(tool: string): Promise<string[]> {
  const r = await runTool(tool, ['components'], { timeoutMs: 30_000 });
  assert.equal(r.code, 0, r.output);
  return [...r.output.matchAll(/^\s*module:\s*(\S+ \S+)\s*$/gm)].map((m) => m[1]).sort();
}

test('the local collector has every component of the manifest but the cluster-only ones; otelcol-k8s has them all', async () => {
  const all = manifestComponents();
  assert.ok(all.some((c) => c.clusterOnly && /k8sattributesprocessor/.test(c.module)), 'k8sattributes is marked cluster-only');
  assert.deepEqual(await builtModules('otelcol'), all.filter((c) => !c.clusterOnly).map((c) => c.module).sort(), 'otelcol (npm start, the tests)');
  assert.deepEqual(await builtModules('otelcol-k8s'), all.map((c) => c.module).sort(), 'otelcol-k8s (the collector image)');
});

test('otelcol validate accepts observability/collector/config.yaml', async () => {
  const r = await validate(collectorConfig, { ...process.env, EDGE_OTLP_TOKEN: 'test-token' });
  assert.equal(r.code, 0, `otelcol validate failed:\n${r.output}`);
});

test('otelcol validate rejects the config without EDGE_OTLP_TOKEN (no default token)', async () => {
  const env = { ...process.env };
  delete env.EDGE_OTLP_TOKEN;
  const r = await validate(collectorConfig, env);
  assert.notEqual(r.code, 0, `validate passed without a token:\n${r.output}`);
  assert.match(r.output, /bearertokenauth/);
});

test('otelcol validate rejects a copy whose pipeline names an undefined exporter', async () => {
  const original = readFileSync(collectorConfig, 'utf8');
  const broken = original.replace('exporters: [prometheus]', 'exporters: [prometheus, otlp_http/nowhere]');
  assert.notEqual(broken, original, 'the metrics pipeline line changed: update this test');
  const dir = mkdtempSync(join(tmpdir(), 'meridian-otelcol-'));
  try {
    const path = join(dir, 'config.yaml');
    writeFileSync(path, broken);
    const r = await validate(path, { ...process.env, EDGE_OTLP_TOKEN: 'test-token' });
    assert.notEqual(r.code, 0, `validate accepted a broken config:\n${r.output}`);
    assert.match(r.output, /otlp_http\/nowhere/, `the error does not name the undefined exporter:\n${r.output}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('jaeger starts with observability/jaeger/config.yaml and answers /api/services', { timeout: 60_000 }, async () => {
  const jaeger = await startJaeger({ JAEGER_MAX_TRACES: '1000' });
  try {
    const body = await jaeger.proc.waitForHttp(`${jaeger.url}/api/services`);
    // An empty in-memory store answers {"data":null,...}; with services it is a list of names.
    const json = JSON.parse(body) as { data?: unknown };
    assert.ok('data' in json && (json.data === null || Array.isArray(json.data)), `unexpected /api/services body: ${body}`);
  } finally {
    await jaeger.stop();
  }
});

test('collector → jaeger, spanmetrics → prometheus exporter, logs → VictoriaLogs with their trace id; edge needs the token', { timeout: 90_000 }, async () => {
  const jaeger = await startJaeger({ JAEGER_MAX_TRACES: '1000' });
  const token = 'test-token-123';
  let collector: Collector | undefined;
  let logsStore: LogsStore | undefined;
  try {
    logsStore = await startVictoriaLogs();
    collector = await startCollector({
      EDGE_OTLP_TOKEN: token,
      JAEGER_OTLP_ENDPOINT: `${HOST}:${jaeger.ports.otlpGrpc}`,
      LOGS_STORE_OTLP_ENDPOINT: `${logsStore.url}/insert/opentelemetry`,
    });
    const { http: httpPort, edge: edgePort, prom: promPort } = collector.ports;
    await jaeger.proc.waitForHttp(`${jaeger.url}/api/services`);

    const service = `probe-${process.pid}`;
    const end = BigInt(Date.now()) * 1_000_000n;
    const spans = otlpTracesJson({
      [service]: [
        {
          traceId: '5b8efff798038103d269b633813fc60c',
          spanId: 'eee19b7ec3c1b174',
          name: 'GET /probe',
          kind: 2,
          startNs: end - 20_000_000n,
          endNs: end,
          attributes: { 'http.route': '/probe', 'http.response.status_code': 200 },
        },
      ],
    });
    const logs = {
      resourceLogs: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
          scopeLogs: [
            {
              logRecords: [
                {
                  timeUnixNano: String(end),
                  severityText: 'INFO',
                  body: { stringValue: 'probe log' },
                  traceId: '5b8efff798038103d269b633813fc60c',
                  spanId: 'eee19b7ec3c1b174',
                },
              ],
            },
          ],
        },
      ],
    };
    const post = (port: number, path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> =>
      fetch(`http://${HOST}:${port}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(5_000),
      });

    assert.equal((await post(httpPort, '/v1/traces', spans)).status, 200);
    assert.equal((await post(httpPort, '/v1/logs', logs)).status, 200);
    assert.equal((await post(edgePort, '/v1/traces', spans)).status, 401, 'edge receiver accepted no token');
    assert.equal((await post(edgePort, '/v1/traces', spans, { authorization: 'Bearer wrong' })).status, 401);
    assert.equal((await post(edgePort, '/v1/traces', spans, { authorization: `Bearer ${token}` })).status, 200);

    await jaeger.proc.waitForHttp(`${jaeger.url}/api/services`, { timeoutMs: 20_000, check: (s, b) => s === 200 && b.includes(service) });
    // The connector flushes every 5 s; wait until the call count of our span is exported.
    const counted = (body: string): boolean =>
      body
        .split('\n')
        .some((l) => l.startsWith('traces_span_metrics_calls_total{') && l.includes(`service_name="${service}"`) && Number(l.split(' ').pop()) >= 1);
    const metrics = await collector.proc.waitForHttp(`http://${HOST}:${promPort}/metrics`, { check: (s, b) => s === 200 && counted(b) });
    for (const name of [
      'traces_span_metrics_calls_total',
      'traces_span_metrics_duration_seconds_bucket',
      'traces_span_metrics_duration_seconds_count',
    ]) {
      const line = metrics.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(`service_name="${service}"`));
      assert.ok(line, `no ${name} series for ${service} in the prometheus exporter`);
      assert.match(line, /http_route="\/probe"/);
      assert.match(line, /service_namespace="meridian"/);
    }

    // The log record is in the store, found by its trace id, with the span id and the service beside it.
    const deadline = Date.now() + 15_000;
    let found: Record<string, string>[] = [];
    while (Date.now() < deadline && found.length === 0) {
      found = await logsStore.query('trace_id:5b8efff798038103d269b633813fc60c');
      if (found.length === 0) await delay(250);
    }
    assert.equal(found.length, 1, `the log record did not reach VictoriaLogs by its trace id:\n${collector.output()}\n${logsStore.output()}`);
    assert.equal(found[0]._msg, 'probe log');
    assert.equal(found[0].span_id, 'eee19b7ec3c1b174');
    assert.equal(found[0]['service.name'], service);
  } finally {
    await collector?.stop();
    await logsStore?.stop();
    await jaeger.stop();
  }
});
