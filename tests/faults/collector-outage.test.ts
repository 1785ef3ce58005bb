// The collector stopped under load: the services keep answering, their memory stays bounded
// (the span queue is capped and drops rather than grows), and traces flow again once it is back.
// Real, pinned otelcol from scripts/tools/install.sh; pause length COLLECTOR_PAUSE_SECONDS (default 30).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, parsePrometheus, REPO_ROOT, request, ServiceProcess } from '@meridian/test-kit';

const PAUSE_S = Number(process.env.COLLECTOR_PAUSE_SECONDS ?? 30);
const H = '127.0.0.1';
const binDir = path.join(process.env.MERIDIAN_TOOLS_DIR || path.join(os.homedir(), '.cache', 'meridian', 'tools'), 'bin');

function otelcol(): string {
  const p = path.join(binDir, 'otelcol');
  if (!existsSync(p)) assert.fail(`otelcol not found at ${p}: run scripts/tools/install.sh (it builds the pinned tools into ${binDir})`);
  return p;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe(`collector stopped for ${PAUSE_S} s under load`, { timeout: (PAUSE_S + 90) * 1000 }, () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'meridian-outage-'));
  const ports: Record<string, number> = {};
  let collector: ChildProcess | undefined;
  let b: ServiceProcess;
  let a: ServiceProcess;

  const startCollector = async () => {
    const child = spawn(otelcol(), ['--config', path.join(REPO_ROOT, 'observability/collector/config.yaml')], {
      cwd: dir,
      env: {
        PATH: process.env.PATH ?? '',
        COLLECTOR_OTLP_GRPC_ENDPOINT: `${H}:${ports.grpc}`,
        COLLECTOR_OTLP_HTTP_ENDPOINT: `${H}:${ports.http}`,
        EDGE_OTLP_HOST: H,
        EDGE_OTLP_PORT: String(ports.edge),
        EDGE_OTLP_TOKEN: 'test-token-not-a-secret',
        // Nothing listens there: the trace exporter to Jaeger retries in the background, which
        // is not what this test looks at.
        JAEGER_OTLP_ENDPOINT: `${H}:${ports.jaeger}`,
        PROM_EXPORTER_ENDPOINT: `${H}:${ports.prom}`,
        COLLECTOR_LOGS_FILE: path.join(dir, 'logs.jsonl'),
        COLLECTOR_HEALTH_ENDPOINT: `${H}:${ports.health}`,
        COLLECTOR_TELEMETRY_HOST: H,
        COLLECTOR_TELEMETRY_PORT: String(ports.telemetry),
        COLLECTOR_LOG_LEVEL: 'error',
      },
      stdio: 'ignore',
    });
    collector = child;
    for (let i = 0; i < 200; i++) {
      if (child.exitCode !== null) assert.fail(`otelcol exited with ${child.exitCode}`);
      try {
        if ((await fetch(`http://${H}:${ports.health}/`, { signal: AbortSignal.timeout(500) })).status === 200) return;
      } catch {
        // not up yet
      }
      await sleep(100);
    }
    assert.fail('otelcol was not healthy within 20 s');
  };

  const stopCollector = async () => {
    const child = collector;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  };

  /** Spans the (current) collector accepted from the services. */
  const acceptedSpans = async () => {
    try {
      const text = (await request(`http://${H}:${ports.telemetry}/metrics`, {}, 2000)).text;
      return parsePrometheus(text)
        .filter((s) => /^otelcol_receiver_accepted_spans(_total)?$/.test(s.name) && s.labels.receiver === 'otlp')
        .reduce((sum, s) => sum + s.value, 0);
    } catch {
      return 0;
    }
  };

  const rssMb = async (p: ServiceProcess) =>
    (parsePrometheus((await request(p.url + '/metrics')).text).find((s) => s.name === 'process_resident_memory_bytes')?.value ?? 0) / 1024 / 1024;

  before(async () => {
    for (const k of ['grpc', 'http', 'edge', 'jaeger', 'prom', 'health', 'telemetry']) ports[k] = await freePort();
    await startCollector();
    const otel = {
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://${H}:${ports.http}`,
      OTEL_BSP_SCHEDULE_DELAY: '500',
      LOG_LEVEL: 'warn',
    };
    b = await new ServiceProcess({ folder: 'service-b', name: 'service-b', env: otel }).start();
    a = await new ServiceProcess({ folder: 'service-a', name: 'service-a', env: { ...otel, SERVICE_B_URL: b.url } }).start();
  });

  after(async () => {
    await a?.stop();
    await b?.stop();
    await stopCollector();
    rmSync(dir, { recursive: true, force: true });
  });

  test('services answer without errors, memory stays bounded, traces resume', async () => {
    const statuses = new Map<number, number>();
    let running = true;
    let slowest = 0;
    const loops = Array.from({ length: 2 }, async () => {
      while (running) {
        const started = Date.now();
        const res = await request(a.url + '/call-service-b', {}, 5000).catch(() => ({ status: 0 }));
        slowest = Math.max(slowest, Date.now() - started);
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        await sleep(100);
      }
    });

    let spansBefore = 0;
    let rssBefore = 0;
    const rssSamples: number[] = [];
    let resumedMs: number | undefined;
    try {
      await sleep(3000);
      spansBefore = await acceptedSpans();
      rssBefore = await rssMb(a);
      await stopCollector();
      for (let s = 0; s < PAUSE_S; s += 5) {
        await sleep(Math.min(5, PAUSE_S - s) * 1000);
        rssSamples.push(await rssMb(a));
      }
      await startCollector();
      const backAt = Date.now();
      while (Date.now() - backAt < 20_000) {
        if ((await acceptedSpans()) > 0) {
          resumedMs = Date.now() - backAt;
          break;
        }
        await sleep(250);
      }
    } finally {
      running = false;
      await Promise.all(loops);
    }
    assert.ok(spansBefore > 0, 'traces reached the collector before the outage');

    const peak = Math.max(...rssSamples);
    console.log(
      `collector down ${PAUSE_S} s: answers ${JSON.stringify(Object.fromEntries(statuses))}, slowest ${slowest} ms; ` +
        `service-a RSS ${rssBefore.toFixed(0)} MB before, peak ${peak.toFixed(0)} MB during (${rssSamples.map((r) => r.toFixed(0)).join(', ')}); ` +
        `spans accepted again ${resumedMs} ms after the collector restarted`,
    );
    assert.deepEqual([...statuses.keys()], [200], 'every answer 200 while the collector was down');
    assert.ok(slowest < 2000, `no request stalled on the exporter (slowest ${slowest} ms)`);
    assert.ok(peak - rssBefore < 64, `RSS grew ${(peak - rssBefore).toFixed(0)} MB`);
    assert.ok(resumedMs !== undefined, 'traces reach the collector again after it is back');
  });
});
