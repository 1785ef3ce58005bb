// The collector and Jaeger configs in observability/ are checked by the real, pinned binaries that
// scripts/tools/install.sh builds (no mocks): `otelcol validate`, then both started for real on
// free loopback ports, a span and a log sent through the pipeline, and the results read back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

const HOST = '127.0.0.1';

function findRepoRoot(): string {
  let dir = __dirname;
  for (;;) {
    if (existsSync(join(dir, 'observability', 'collector', 'config.yaml'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`observability/collector/config.yaml not found above ${__dirname}`);
    dir = parent;
  }
}

const repoRoot = findRepoRoot();
const collectorConfig = join(repoRoot, 'observability', 'collector', 'config.yaml');
const jaegerConfig = join(repoRoot, 'observability', 'jaeger', 'config.yaml');

/** Same lookup as scripts/tools/install.sh: ${MERIDIAN_TOOLS_DIR:-$HOME/.cache/meridian/tools}/bin. */
const binDir = join(process.env.MERIDIAN_TOOLS_DIR || join(homedir(), '.cache', 'meridian', 'tools'), 'bin');

function tool(name: string): string {
  const path = join(binDir, name);
  if (!existsSync(path)) {
    assert.fail(`${name} not found at ${path}: run scripts/tools/install.sh (it builds the pinned tools into ${binDir})`);
  }
  return path;
}

function validate(config: string, env: NodeJS.ProcessEnv): { status: number | null; output: string } {
  const r = spawnSync(tool('otelcol'), ['validate', `--config=${config}`], {
    env,
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (r.error) throw r.error;
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

/** Distinct free loopback ports (all held open at once so they differ, then released). */
async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, async () => {
      const server = createServer();
      server.listen(0, HOST);
      await once(server, 'listening');
      return server;
    }),
  );
  const ports = servers.map((s) => (s.address() as AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise<void>((done) => s.close(() => done()))));
  return ports;
}

interface Proc {
  child: ChildProcess;
  output: () => string;
}

function start(bin: string, args: string[], env: NodeJS.ProcessEnv): Proc {
  const child = spawn(bin, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (chunk: Buffer): void => {
    out = (out + chunk.toString('utf8')).slice(-8000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return { child, output: () => out };
}

async function stop(proc: Proc): Promise<void> {
  const { child } = proc;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = delay(5_000).then(() => 'timeout' as const);
  if ((await Promise.race([exited.then(() => 'exited' as const), timer])) === 'timeout') {
    child.kill('SIGKILL');
    await exited;
  }
}

/** Poll `url` until `check` accepts the response, the process dies, or `ms` pass. */
async function waitFor(
  url: string,
  proc: Proc,
  ms: number,
  check: (status: number, body: string) => boolean,
): Promise<string> {
  const deadline = Date.now() + ms;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (proc.child.exitCode !== null) {
      assert.fail(`process exited with ${proc.child.exitCode} before ${url} answered:\n${proc.output()}`);
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      const body = await res.text();
      last = `${res.status} ${body.slice(0, 300)}`;
      if (check(res.status, body)) return body;
    } catch (err) {
      last = String(err);
    }
    await delay(250);
  }
  assert.fail(`${url} not ready within ${ms} ms (last: ${last}):\n${proc.output()}`);
}

async function startJaeger(): Promise<{ proc: Proc; queryPort: number; otlpGrpcPort: number }> {
  const [queryPort, queryGrpcPort, otlpGrpcPort, otlpHttpPort, healthPort, metricsPort] = await freePorts(6);
  const proc = start(tool('jaeger'), ['--config', jaegerConfig], {
    ...process.env,
    JAEGER_HOST: HOST,
    JAEGER_QUERY_HTTP_PORT: String(queryPort),
    JAEGER_QUERY_GRPC_PORT: String(queryGrpcPort),
    JAEGER_OTLP_GRPC_PORT: String(otlpGrpcPort),
    JAEGER_OTLP_HTTP_PORT: String(otlpHttpPort),
    JAEGER_HEALTH_PORT: String(healthPort),
    JAEGER_METRICS_PORT: String(metricsPort),
    JAEGER_MAX_TRACES: '1000',
  });
  return { proc, queryPort, otlpGrpcPort };
}

test('otelcol validate accepts observability/collector/config.yaml', () => {
  const r = validate(collectorConfig, { ...process.env, EDGE_OTLP_TOKEN: 'test-token' });
  assert.equal(r.status, 0, `otelcol validate failed:\n${r.output}`);
});

test('otelcol validate rejects the config without EDGE_OTLP_TOKEN (no default token)', () => {
  const env = { ...process.env };
  delete env.EDGE_OTLP_TOKEN;
  const r = validate(collectorConfig, env);
  assert.notEqual(r.status, 0, `validate passed without a token:\n${r.output}`);
  assert.match(r.output, /bearertokenauth/);
});

test('otelcol validate rejects a copy whose pipeline names an undefined exporter', () => {
  const original = readFileSync(collectorConfig, 'utf8');
  const broken = original.replace('exporters: [prometheus]', 'exporters: [prometheus, otlp_http/nowhere]');
  assert.notEqual(broken, original, 'the metrics pipeline line changed: update this test');
  const dir = mkdtempSync(join(tmpdir(), 'meridian-otelcol-'));
  try {
    const path = join(dir, 'config.yaml');
    writeFileSync(path, broken);
    const r = validate(path, { ...process.env, EDGE_OTLP_TOKEN: 'test-token' });
    assert.notEqual(r.status, 0, `validate accepted a broken config:\n${r.output}`);
    assert.match(r.output, /otlp_http\/nowhere/, `the error does not name the undefined exporter:\n${r.output}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('jaeger starts with observability/jaeger/config.yaml and answers /api/services', { timeout: 60_000 }, async () => {
  const { proc, queryPort } = await startJaeger();
  try {
    const body = await waitFor(`http://${HOST}:${queryPort}/api/services`, proc, 30_000, (s) => s === 200);
    // An empty in-memory store answers {"data":null,...}; with services it is a list of names.
    const json = JSON.parse(body) as { data?: unknown };
    assert.ok('data' in json && (json.data === null || Array.isArray(json.data)), `unexpected /api/services body: ${body}`);
  } finally {
    await stop(proc);
  }
});

test('collector → jaeger, spanmetrics → prometheus exporter, logs → JSON lines; edge needs the token', { timeout: 90_000 }, async () => {
  const jaeger = await startJaeger();
  const [grpcPort, httpPort, edgePort, promPort, healthPort, telemetryPort] = await freePorts(6);
  const dir = mkdtempSync(join(tmpdir(), 'meridian-otelcol-'));
  const logsFile = join(dir, 'logs.jsonl');
  const token = 'test-token-123';
  const collector = start(tool('otelcol'), [`--config=${collectorConfig}`], {
    ...process.env,
    EDGE_OTLP_TOKEN: token,
    EDGE_OTLP_HOST: HOST,
    EDGE_OTLP_PORT: String(edgePort),
    COLLECTOR_OTLP_GRPC_ENDPOINT: `${HOST}:${grpcPort}`,
    COLLECTOR_OTLP_HTTP_ENDPOINT: `${HOST}:${httpPort}`,
    JAEGER_OTLP_ENDPOINT: `${HOST}:${jaeger.otlpGrpcPort}`,
    PROM_EXPORTER_ENDPOINT: `${HOST}:${promPort}`,
    COLLECTOR_HEALTH_ENDPOINT: `${HOST}:${healthPort}`,
    COLLECTOR_TELEMETRY_HOST: HOST,
    COLLECTOR_TELEMETRY_PORT: String(telemetryPort),
    COLLECTOR_LOGS_FILE: logsFile,
  });
  try {
    await waitFor(`http://${HOST}:${healthPort}/`, collector, 30_000, (s) => s === 200);
    await waitFor(`http://${HOST}:${jaeger.queryPort}/api/services`, jaeger.proc, 30_000, (s) => s === 200);

    const service = `probe-${process.pid}`;
    const end = BigInt(Date.now()) * 1_000_000n;
    const spans = {
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
          scopeSpans: [
            {
              spans: [
                {
                  traceId: '5b8efff798038103d269b633813fc60c',
                  spanId: 'eee19b7ec3c1b174',
                  name: 'GET /probe',
                  kind: 2,
                  startTimeUnixNano: String(end - 20_000_000n),
                  endTimeUnixNano: String(end),
                  attributes: [
                    { key: 'http.route', value: { stringValue: '/probe' } },
                    { key: 'http.response.status_code', value: { intValue: '200' } },
                  ],
                },
              ],
            },
          ],
        },
      ],
    };
    const logs = {
      resourceLogs: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
          scopeLogs: [{ logRecords: [{ timeUnixNano: String(end), severityText: 'INFO', body: { stringValue: 'probe log' } }] }],
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

    await waitFor(`http://${HOST}:${jaeger.queryPort}/api/services`, jaeger.proc, 20_000, (s, b) => s === 200 && b.includes(service));
    // The connector flushes every 5 s; wait until the call count of our span is exported.
    const counted = (body: string): boolean =>
      body
        .split('\n')
        .some((l) => l.startsWith('traces_span_metrics_calls_total{') && l.includes(`service_name="${service}"`) && Number(l.split(' ').pop()) >= 1);
    const metrics = await waitFor(`http://${HOST}:${promPort}/metrics`, collector, 30_000, (s, b) => s === 200 && counted(b));
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

    const deadline = Date.now() + 10_000;
    let text = '';
    while (Date.now() < deadline && !text.includes('probe log')) {
      text = existsSync(logsFile) ? readFileSync(logsFile, 'utf8') : '';
      if (!text.includes('probe log')) await delay(250);
    }
    const line = text.split('\n').find((l) => l.includes('probe log'));
    assert.ok(line, `the log record did not reach ${logsFile}:\n${collector.output()}`);
    const parsed = JSON.parse(line) as { resourceLogs?: unknown[] };
    assert.ok(Array.isArray(parsed.resourceLogs), 'logs file line is not an OTLP/JSON export request');
  } finally {
    await stop(collector);
    await stop(jaeger.proc);
    rmSync(dir, { recursive: true, force: true });
  }
});
