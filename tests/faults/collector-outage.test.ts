// The collector stopped under load: the services keep answering, their memory stays bounded
// (the span queue is capped and drops rather than grows), and traces flow again once it is back.
// Real, pinned otelcol from scripts/tools/install.sh; pause length COLLECTOR_PAUSE_SECONDS (default 30).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { type Collector, otlpTracingEnv, parsePrometheus, request, ServiceProcess, startCollector } from '@meridian/test-kit';

const PAUSE_S = Number(process.env.COLLECTOR_PAUSE_SECONDS ?? 30);
const H = '127.0.0.1';
// Nothing listens on the collector's Jaeger endpoint (startCollector's default): the trace
// exporter retries in the background, which is not what this test looks at.
const COLLECTOR_ENV = { EDGE_OTLP_TOKEN: 'test-token-not-a-secret', COLLECTOR_LOG_LEVEL: 'error' };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe(`collector stopped for ${PAUSE_S} s under load`, { timeout: (PAUSE_S + 90) * 1000 }, () => {
  let collector: Collector | undefined;
  let b: ServiceProcess;
  let a: ServiceProcess;

  /** On free ports the first time; after the outage on the same ones, where the services still send. */
  const bootCollector = async () => {
    collector = await startCollector(COLLECTOR_ENV, { ports: collector?.ports, readyTimeoutMs: 20_000 });
  };

  /** Killed (SIGKILL): an abrupt outage, nothing flushed on the way out. */
  const stopCollector = async () => {
    await collector?.stop('SIGKILL');
  };

  /** Spans the (current) collector accepted from the services. */
  const acceptedSpans = async () => {
    try {
      const text = (await request(`http://${H}:${collector?.ports.telemetry}/metrics`, {}, 2000)).text;
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
    await bootCollector();
    const otel = {
      ...otlpTracingEnv(`http://${H}:${collector!.ports.http}`, { protocol: 'http/protobuf', scheduleDelayMs: 500 }),
      LOG_LEVEL: 'warn',
    };
    b = await new ServiceProcess({ folder: 'service-b', name: 'service-b', env: otel }).start();
    a = await new ServiceProcess({ folder: 'service-a', name: 'service-a', env: { ...otel, SERVICE_B_URL: b.url } }).start();
  });

  after(async () => {
    await a?.stop();
    await b?.stop();
    await stopCollector();
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
      await bootCollector();
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
