// Telemetry survives outages of its pipeline, measured on the real one `npm start` runs
// (scripts/local/pipeline.mjs: otelcol, Jaeger, nginx as the edge ingress, Prometheus with the
// repo's rules) and real service processes under load:
//   1. Jaeger stopped for TELEMETRY_OUTAGE_SECONDS (60) with the collector restarted meanwhile:
//      the collector's on-disk sending queue keeps every span; all of them are in Jaeger afterwards.
//   2. The edge ingress stopped as long under edge load: the edge's span buffer holds its spans
//      (bounded), and once nginx is back it answers the edge nothing but 200.
//   3. Past the buffer's bound the loss is counted, and Prometheus fires ServiceDroppingSpans on it.
// Jaeger stores on disk here (observability/jaeger/badger.yaml) so its traces outlive its restart.
// Each request carries its own traceparent, so the test knows every trace id it must find.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import sharp from 'sharp';
import { freePort, LOCAL_STACK_PORT_VARS, parsePrometheus, REPO_ROOT, request, ServiceProcess, startProcess, type ToolProcess } from '@meridian/test-kit';

const OUTAGE_S = Number(process.env.TELEMETRY_OUTAGE_SECONDS ?? 60);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface ProcessSpec {
  name: string;
  command: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  readyUrl: string;
  ready?: () => Promise<boolean>;
}
interface Pipeline {
  specs: ProcessSpec[];
  cloudEnv: Record<string, string>;
  edgeEnv: Record<string, string>;
}

/** A W3C traceparent with a fresh, sampled trace id. */
function newTrace(): { id: string; header: string } {
  const id = randomBytes(16).toString('hex');
  return { id, header: `00-${id}-${randomBytes(8).toString('hex')}-01` };
}

/** Sum of a metric's samples (all label sets) at a /metrics URL; 0 when unreachable. */
async function metric(url: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  try {
    const samples = parsePrometheus((await request(url, {}, 3000)).text);
    return samples
      .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
      .reduce((sum, s) => sum + s.value, 0);
  } catch {
    return 0;
  }
}

describe(`telemetry through outages of ${OUTAGE_S} s`, { timeout: (3 * OUTAGE_S + 420) * 1000 }, () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'meridian-outages-'));
  const runDir = path.join(dir, 'run');
  const procs = new Map<string, ToolProcess>();
  const services: ServiceProcess[] = [];
  let p: Pipeline;
  let a: ServiceProcess;
  let edge: ServiceProcess;
  let image: Buffer;
  const url = (port: string) => `http://127.0.0.1:${process.env[port]}`;

  const spec = (name: string) => p.specs.find((s) => s.name === name)!;
  const jaegerUrl = () => url('JAEGER_UI_PORT');

  /** Starts a pipeline process as the runner does, on the ports of this run; restartable. */
  const startPart = async (name: string) => {
    const s = spec(name);
    const proc = await startProcess(name, s.command, s.args, {
      cwd: s.cwd,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...s.env },
      readyUrl: s.ready ? undefined : s.readyUrl,
      readyTimeoutMs: 30_000,
    });
    if (s.ready) {
      const until = Date.now() + 30_000;
      while (!(await s.ready())) {
        if (Date.now() > until) {
          await proc.stop();
          assert.fail(`${name} not ready:\n${proc.output()}`);
        }
        await sleep(200);
      }
    }
    procs.set(name, proc);
  };
  const stopPart = async (name: string) => {
    await procs.get(name)?.stop('SIGTERM');
    procs.delete(name);
  };

  const service = async (folder: string, name: string, env: Record<string, string>, otel: Record<string, string>) => {
    const svc = new ServiceProcess({ folder, name, env: { ...otel, LOG_LEVEL: 'warn', ...env } });
    services.push(svc);
    return svc.start(30_000);
  };

  /** Spans Jaeger has for a trace id (0 when it has none). */
  const spansInJaeger = async (id: string): Promise<number> => {
    const res = await request(`${jaegerUrl()}/api/traces/${id}`, {}, 5000).catch(() => undefined);
    return ((res?.json?.data?.[0]?.spans as unknown[] | undefined) ?? []).length;
  };

  /** Waits until every trace has `expected` spans in Jaeger; returns those that still do not. */
  const waitComplete = async (ids: string[], expected: number, timeoutMs: number): Promise<Map<string, number>> => {
    let missing = new Map(ids.map((id) => [id, 0]));
    const until = Date.now() + timeoutMs;
    while (missing.size > 0 && Date.now() < until) {
      const next = new Map<string, number>();
      for (const id of missing.keys()) {
        const n = await spansInJaeger(id);
        if (n < expected) next.set(id, n);
      }
      missing = next;
      if (missing.size > 0) await sleep(1000);
    }
    return missing;
  };

  /** Spans of one whole trace: sent once, read back when Jaeger stops getting more of it. */
  const spansPerTrace = async (send: (traceparent: string) => Promise<number>): Promise<number> => {
    const t = newTrace();
    assert.equal(await send(t.header), 200);
    let n = 0;
    let stableSince = Date.now();
    const until = Date.now() + 30_000;
    while (Date.now() < until) {
      const now = await spansInJaeger(t.id);
      if (now !== n) {
        n = now;
        stableSince = Date.now();
      } else if (n > 0 && Date.now() - stableSince > 3000) return n;
      await sleep(250);
    }
    assert.fail(`trace ${t.id} never reached Jaeger (${n} spans)`);
  };

  /** Requests in `loops` parallel loops until stopped; the trace ids of the 200 answers. */
  const load = (send: (traceparent: string) => Promise<number>, loops: number, pauseMs: number) => {
    const answered: string[] = [];
    const statuses = new Map<number, number>();
    let running = true;
    const done = Promise.all(
      Array.from({ length: loops }, async () => {
        while (running) {
          const t = newTrace();
          const status = await send(t.header).catch(() => 0);
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
          if (status === 200) answered.push(t.id);
          await sleep(pauseMs);
        }
      }),
    );
    return {
      answered,
      statuses,
      stop: async () => {
        running = false;
        await done;
      },
    };
  };

  const callServiceB = async (traceparent: string) => (await request(`${a.url}/call-service-b`, { headers: { traceparent } }, 10_000)).status;
  const preprocess = async (traceparent: string) =>
    (await request(`${edge.url}/preprocessing`, { method: 'POST', headers: { traceparent, 'content-type': 'image/png' }, body: image }, 20_000)).status;

  const collectorSent = () => metric(`${url('COLLECTOR_METRICS_PORT')}/metrics`, 'otelcol_exporter_sent_spans', { exporter: 'otlp_grpc/jaeger' });

  before(async () => {
    // The runner's ports, all moved to free ones; pipeline.mjs reads them when it is loaded.
    const taken = new Set<number>();
    for (const name of LOCAL_STACK_PORT_VARS) {
      let port = await freePort();
      while (taken.has(port)) port = await freePort();
      taken.add(port);
      process.env[name] = String(port);
    }
    const mod = (await import(pathToFileURL(path.join(REPO_ROOT, 'scripts/local/pipeline.mjs')).href)) as {
      pipeline: (runDir: string) => Pipeline;
      prepareRunDir: (runDir: string) => void;
    };
    mod.prepareRunDir(runDir);
    p = mod.pipeline(runDir);
    const jaeger = spec('jaeger');
    jaeger.args.push('--config', path.join(REPO_ROOT, 'observability/jaeger/badger.yaml'));
    jaeger.env.JAEGER_BADGER_DIR = path.join(dir, 'jaeger-badger');
    for (const name of ['jaeger', 'prometheus', 'collector', 'edge-ingress']) await startPart(name);

    const port = (v: string) => ({ PORT: process.env[v]! });
    const b = await service('service-b', 'service-b', port('SERVICE_B_PORT'), p.cloudEnv);
    a = await service('service-a', 'service-a', { ...port('SERVICE_A_PORT'), SERVICE_B_URL: b.url }, p.cloudEnv);
    const e0 = await service('inference', 'inference-efficientnetb0', { ...port('EFFICIENTNETB0_PORT'), ROLE: 'efficientnetb0' }, p.cloudEnv);
    const m2 = await service('inference', 'inference-mobilenetv2', { ...port('MOBILENETV2_PORT'), ROLE: 'mobilenetv2' }, p.cloudEnv);
    const ens = await service(
      'inference',
      'inference-ensemble',
      { ...port('ENSEMBLE_PORT'), ROLE: 'ensemble', EFFICIENTNETB0_URL: e0.url, MOBILENETV2_URL: m2.url },
      p.cloudEnv,
    );
    edge = await service('preprocessing-edge', 'preprocessing-edge', { ...port('EDGE_PORT'), INFERENCE_URL: ens.url }, p.edgeEnv);
    image = await sharp({ create: { width: 160, height: 120, channels: 3, background: { r: 30, g: 140, b: 90 } } }).png().toBuffer();
  });

  after(async () => {
    for (const s of services.reverse()) await s.stop().catch(() => undefined);
    for (const name of [...procs.keys()]) await stopPart(name);
    rmSync(dir, { recursive: true, force: true });
  });

  test('Jaeger stopped under load, the collector restarted meanwhile: every span of every answered request reaches Jaeger', async (t) => {
    const perTrace = await spansPerTrace(callServiceB);
    const sentBefore = await metric(`${a.url}/metrics`, 'telemetry_spans_exported_total');
    const traffic = load(callServiceB, 2, 150);
    let exported = 0;
    let queuedAtRestart = 0;
    try {
      await sleep(3000);
      await stopPart('jaeger');
      await sleep((OUTAGE_S / 2) * 1000);
      // A graceful restart, as a rollout or a node drain does: the queue is on disk and stays.
      queuedAtRestart = await metric(`${url('COLLECTOR_METRICS_PORT')}/metrics`, 'otelcol_exporter_queue_size', { exporter: 'otlp_grpc/jaeger' });
      exported += await collectorSent();
      await stopPart('collector');
      await startPart('collector');
      await sleep((OUTAGE_S / 2) * 1000);
      await startPart('jaeger');
      await sleep(5000);
    } finally {
      await traffic.stop();
    }
    const missing = await waitComplete(traffic.answered, perTrace, 120_000);
    exported += await collectorSent();
    const b = services.find((s) => s.spec.name === 'service-b')!;
    const sent =
      (await metric(`${a.url}/metrics`, 'telemetry_spans_exported_total')) - sentBefore + (await metric(`${b.url}/metrics`, 'telemetry_spans_exported_total'));
    const found = (traffic.answered.length - missing.size) * perTrace + [...missing.values()].reduce((x, y) => x + y, 0);
    t.diagnostic(
      `Jaeger down ${OUTAGE_S} s, collector restarted at ${OUTAGE_S / 2} s with ${queuedAtRestart} batches queued on disk: ` +
        `${traffic.answered.length} requests answered (${JSON.stringify(Object.fromEntries(traffic.statuses))}), ${perTrace} spans each; ` +
        `spans sent by the services ${sent}, exported by the collector to Jaeger ${exported}, found in Jaeger ${found} of ${traffic.answered.length * perTrace}`,
    );
    assert.ok(traffic.answered.length > 50, `load ran (${traffic.answered.length} answers)`);
    assert.ok(queuedAtRestart > 0, 'the collector had spans queued for Jaeger when it was restarted');
    assert.equal(missing.size, 0, `traces incomplete in Jaeger: ${[...missing].slice(0, 5).map(([id, n]) => `${id} (${n}/${perTrace})`).join(', ')}`);
    assert.equal(await metric(`${a.url}/metrics`, 'telemetry_spans_dropped_total'), 0, 'service-a dropped nothing');
  });

  test('the edge ingress unreachable under edge load: the edge buffers within its bound, loses nothing, and nginx answers only 200 when back', async (t) => {
    const edgeMetrics = `${edge.url}/metrics`;
    const accessLog = path.join(runDir, 'edge-ingress-access.log');
    const perTrace = await spansPerTrace(preprocess);
    const traffic = load(preprocess, 1, 200);
    const buffered: number[] = [];
    let logLinesAtRestart = 0;
    try {
      await sleep(3000);
      await stopPart('edge-ingress');
      for (let s = 0; s < OUTAGE_S; s += 5) {
        await sleep(5000);
        buffered.push(await metric(edgeMetrics, 'telemetry_span_buffer_spans'));
      }
      logLinesAtRestart = existsSync(accessLog) ? readFileSync(accessLog, 'utf8').split('\n').filter(Boolean).length : 0;
      await startPart('edge-ingress');
      await sleep(5000);
    } finally {
      await traffic.stop();
    }
    const missing = await waitComplete(traffic.answered, perTrace, 120_000);
    const after = readFileSync(accessLog, 'utf8').split('\n').filter(Boolean).slice(logLinesAtRestart);
    const statuses = new Map<string, number>();
    for (const line of after) {
      const status = / (\d{3}) /.exec(line.split('"')[2] ?? '')?.[1] ?? '?';
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    }
    const peak = Math.max(...buffered);
    const dropped = await metric(edgeMetrics, 'telemetry_spans_dropped_total');
    const exported = await metric(edgeMetrics, 'telemetry_spans_exported_total');
    t.diagnostic(
      `edge ingress down ${OUTAGE_S} s: ${traffic.answered.length} edge requests answered (${JSON.stringify(Object.fromEntries(traffic.statuses))}), ${perTrace} spans a trace; ` +
        `edge buffer peak ${peak} spans (bound 20000; samples ${buffered.join(', ')}), edge spans exported ${exported}, dropped ${dropped}; ` +
        `found complete in Jaeger ${traffic.answered.length - missing.size} of ${traffic.answered.length} traces; ingress answers after restart ${JSON.stringify(Object.fromEntries(statuses))}`,
    );
    assert.ok(traffic.answered.length > 20, `edge load ran (${traffic.answered.length} answers)`);
    assert.ok(peak > 0 && peak <= 20_000, `the edge held its spans while the ingress was down (peak ${peak})`);
    assert.equal(dropped, 0, 'the edge dropped nothing');
    assert.equal(missing.size, 0, `traces incomplete in Jaeger: ${[...missing].slice(0, 5).map(([id, n]) => `${id} (${n}/${perTrace})`).join(', ')}`);
    assert.ok(after.length > 0, 'the edge sent its backlog through the ingress');
    assert.deepEqual([...statuses.keys()], ['200'], 'the ingress answered nothing but 200 once back');
  });

  test('past the bound the edge counts its loss, and Prometheus fires ServiceDroppingSpans', async (t) => {
    // The same edge with a small buffer, cut off from the ingress again.
    const i = services.indexOf(edge);
    await edge.stop();
    edge = await service(
      'preprocessing-edge',
      'preprocessing-edge',
      { PORT: process.env.EDGE_PORT!, INFERENCE_URL: edge.spec.env!.INFERENCE_URL, TELEMETRY_BUFFER_MAX_SPANS: '20' },
      p.edgeEnv,
    );
    services.splice(i, 1);
    await stopPart('edge-ingress');
    try {
      for (let n = 0; n < 10; n++) assert.equal(await preprocess(newTrace().header), 200);
      const edgeMetrics = `${edge.url}/metrics`;
      let dropped = 0;
      for (let s = 0; s < 30 && dropped === 0; s++) {
        await sleep(1000);
        dropped = await metric(edgeMetrics, 'telemetry_spans_dropped_total', { reason: 'buffer_full' });
      }
      const held = await metric(edgeMetrics, 'telemetry_span_buffer_spans');
      assert.ok(dropped > 0, 'the loss is counted');
      assert.ok(held <= 20, `the buffer stays at its bound (${held})`);
      let alert: Record<string, string> | undefined;
      const until = Date.now() + 60_000;
      while (!alert && Date.now() < until) {
        const res = await request(`${url('PROMETHEUS_PORT')}/api/v1/alerts`).catch(() => undefined);
        const alerts = (res?.json?.data?.alerts ?? []) as { labels: Record<string, string>; state: string }[];
        alert = alerts.find((x) => x.labels.alertname === 'ServiceDroppingSpans' && x.labels.job === 'preprocessing-edge' && x.state === 'firing')?.labels;
        if (!alert) await sleep(1000);
      }
      t.diagnostic(`buffer bound 20: ${dropped} spans dropped and counted, ${held} held; alert ${JSON.stringify(alert)}`);
      assert.equal(alert?.reason, 'buffer_full', 'ServiceDroppingSpans fires for the edge, reason buffer_full');
    } finally {
      await startPart('edge-ingress');
    }
  });
});
