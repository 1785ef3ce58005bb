import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { randomBytes } from 'node:crypto';
import sharp from 'sharp';
import { LocalStack, parsePrometheus, poll, queryLogs, request } from '@meridian/test-kit';

/**
 * The real pipeline, as `npm start` runs it: services → OpenTelemetry Collector → Jaeger,
 * Prometheus and the collector's log file, with the edge's telemetry going through nginx (TLS + token).
 */

interface JaegerSpan {
  traceID: string;
  spanID: string;
  operationName: string;
  references: { refType: string; spanID: string }[];
  processID: string;
  tags: { key: string; value: unknown }[];
  startTime: number;
  duration: number;
}
interface JaegerTrace {
  traceID: string;
  spans: JaegerSpan[];
  processes: Record<string, { serviceName: string }>;
}

const tag = (s: JaegerSpan, key: string) => s.tags.find((t) => t.key === key)?.value;
const parentOf = (s: JaegerSpan) => s.references.find((r) => r.refType === 'CHILD_OF')?.spanID;

function httpsPost(url: string, body: string, ca: Buffer, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method: 'POST', ca, headers: { 'content-type': 'application/json', ...headers }, timeout: 5000 }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end(body);
  });
}

function otlpSpan(service: string): string {
  const now = BigInt(Date.now()) * 1_000_000n;
  return JSON.stringify({
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
        scopeSpans: [
          {
            spans: [
              {
                traceId: randomBytes(16).toString('hex'),
                spanId: randomBytes(8).toString('hex'),
                name: 'probe',
                kind: 1,
                startTimeUnixNano: String(now),
                endTimeUnixNano: String(now + 1_000_000n),
              },
            ],
          },
        ],
      },
    ],
  });
}

describe('local pipeline end to end', () => {
  let stack: LocalStack;
  let jaeger: string;
  let prometheus: string;

  async function jaegerTrace(traceId: string, services: string[]): Promise<JaegerTrace> {
    return poll(`trace ${traceId} with ${services.join(', ')} in Jaeger`, async () => {
      const res = await request(`${jaeger}/api/traces/${traceId}`);
      const t = res.json?.data?.[0] as JaegerTrace | undefined;
      if (!t) return undefined;
      const seen = new Set(Object.values(t.processes).map((p) => p.serviceName));
      // A root span ends last and may be exported in a later batch than its children: wait for it.
      const hasRoot = t.spans.some((s) => !parentOf(s));
      return services.every((s) => seen.has(s)) && hasRoot ? t : undefined;
    });
  }

  async function promQuery(q: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
    const res = await request(`${prometheus}/api/v1/query?query=${encodeURIComponent(q)}`);
    assert.equal(res.json?.status, 'success', `query ${q}: ${res.text}`);
    return res.json.data.result;
  }

  before(async () => {
    stack = await LocalStack.start();
    jaeger = stack.url('jaeger');
    prometheus = stack.url('prometheus');
  });
  after(async () => {
    const code = await stack?.stop();
    assert.equal(code, 0, `npm start exits 0 on Ctrl-C:\n${stack?.tail()}`);
  });

  test('the whole stack was ready, and says how long it took and how much memory it uses', (t) => {
    const { readySeconds, rssMiB, pssMiB, processes } = stack.summary;
    t.diagnostic(`stack ready in ${readySeconds.toFixed(1)} s (npm start, tools cached, models generated), RSS ${rssMiB} MiB, PSS ${pssMiB} MiB in ${processes} processes`);
    assert.ok(readySeconds > 0);
    // Six services, collector, Jaeger, Prometheus, Alertmanager, the nginx master and its worker(s).
    assert.ok(processes >= 12, `${processes} processes counted`);
    // Each Node service alone is over 50 MiB; a sum below that means a process was missed.
    assert.ok(rssMiB > 6 * 50 && rssMiB < 4096, `RSS ${rssMiB} MiB`);
    // The six Node services share the Node binary's pages: counted once, the stack takes less.
    assert.ok(pssMiB !== null && pssMiB > 6 * 30 && pssMiB < rssMiB, `PSS ${pssMiB} MiB, RSS ${rssMiB} MiB`);
    assert.match(
      stack.output.join('\n'),
      new RegExp(`Meridian is ready in [\\d.]+ s, using [\\d,]+ MiB of memory \\(RSS of its ${processes} processes; [\\d,]+ MiB PSS, which counts the pages they share once\\)`),
    );
  });

  test('POST /preprocessing: one trace in Jaeger across the edge, the ensemble and both models, nested, with the site id', async (t) => {
    const image = await sharp({ create: { width: 320, height: 240, channels: 3, background: { r: 200, g: 80, b: 40 } } })
      .png()
      .toBuffer();
    const sent = Date.now();
    const res = await request(`${stack.url('preprocessing-edge')}/preprocessing`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: image });
    assert.equal(res.status, 200, res.text);
    const traceId: string = res.json.traceId;
    assert.match(traceId, /^[0-9a-f]{32}$/);

    const services = ['preprocessing-edge', 'inference-ensemble', 'inference-efficientnetb0', 'inference-mobilenetv2'];
    const trace = await jaegerTrace(traceId, services);
    t.diagnostic(`edge trace queryable in Jaeger ${Date.now() - sent} ms after the request was sent`);
    assert.equal(trace.traceID, traceId, 'the answer carries the trace id');

    const byId = new Map(trace.spans.map((s) => [s.spanID, s]));
    const svc = (s: JaegerSpan) => trace.processes[s.processID].serviceName;
    const roots = trace.spans.filter((s) => !parentOf(s));
    assert.equal(roots.length, 1, `one root, got ${roots.map((r) => `${svc(r)}:${r.operationName}`).join(', ')}`);
    assert.equal(svc(roots[0]), 'preprocessing-edge');
    for (const s of trace.spans) assert.ok(byId.has(parentOf(s) ?? roots[0].spanID), `${svc(s)}:${s.operationName} has its parent in the trace`);

    // Each cloud server span hangs under a client span of its caller.
    const server = (name: string) => trace.spans.find((s) => svc(s) === name && tag(s, 'span.kind') === 'server');
    const expectCaller = (callee: string, caller: string) => {
      const span = server(callee);
      assert.ok(span, `${callee} server span`);
      const parent = byId.get(parentOf(span)!);
      assert.ok(parent, `${callee} has a parent`);
      assert.equal(svc(parent), caller, `${callee} is called by ${caller}`);
      assert.equal(tag(parent, 'span.kind'), 'client');
      // The site id travelled as baggage and is on the cloud spans.
      assert.equal(tag(span, 'meridian.site'), 'edge-local-1', `${callee} span carries meridian.site`);
    };
    expectCaller('inference-ensemble', 'preprocessing-edge');
    expectCaller('inference-efficientnetb0', 'inference-ensemble');
    expectCaller('inference-mobilenetv2', 'inference-ensemble');

    // The edge's spans went through the ingress: nginx logged OTLP posts with 200, and the
    // collector counted spans on its edge receiver.
    const access = readFileSync(`${stack.summary.runDir}/edge-ingress-access.log`, 'utf8');
    assert.match(access, /"POST \/v1\/traces HTTP\/1\.1" 200/);
    const own = parsePrometheus((await request(`${stack.url('collector-metrics')}/metrics`)).text);
    const edgeAccepted = own.filter((s) => /^otelcol_receiver_accepted_spans/.test(s.name) && s.labels.receiver === 'otlp/edge');
    assert.ok(edgeAccepted.reduce((a, s) => a + s.value, 0) > 0, 'collector accepted spans on otlp/edge');
  });

  test('GET /call-service-b: one trace in Jaeger across service-a and service-b; its id finds its log lines in VictoriaLogs, and their trace_id finds it', async () => {
    const res = await request(`${stack.url('service-a')}/call-service-b`);
    assert.equal(res.status, 200);
    // service-a does not put the trace id in its answer; find the trace through Jaeger's search.
    const trace = await poll('a /call-service-b trace with both services', async () => {
      const r = await request(`${jaeger}/api/traces?service=service-a&operation=${encodeURIComponent('GET /call-service-b')}&limit=5&lookback=1h`);
      return (r.json?.data as JaegerTrace[] | undefined)?.find((t) => Object.values(t.processes).some((p) => p.serviceName === 'service-b'));
    });
    const byId = new Map(trace.spans.map((s) => [s.spanID, s]));
    const svc = (s: JaegerSpan) => trace.processes[s.processID].serviceName;
    const bServer = trace.spans.find((s) => svc(s) === 'service-b' && tag(s, 'span.kind') === 'server');
    assert.ok(bServer);
    const parent = byId.get(parentOf(bServer)!);
    assert.equal(parent && svc(parent), 'service-a');
    assert.equal(parent && tag(parent, 'span.kind'), 'client');

    // The trace's id finds its log lines in the log store, from both services, with their span ids.
    const lines = await poll('the log lines of the trace in VictoriaLogs', async () => {
      const found = await queryLogs(stack.summary.logsUrl, `trace_id:${trace.traceID}`);
      const services = new Set(found.map((l) => l['service.name']));
      return services.has('service-a') && services.has('service-b') ? found : undefined;
    });
    const called = lines.find((l) => l['service.name'] === 'service-a' && /called service-b/.test(l._msg));
    assert.ok(called, `service-a's "called service-b" line is among the trace's lines: ${lines.map((l) => l._msg).join(' | ')}`);
    for (const l of lines) assert.ok(byId.has(l.span_id), `log line "${l._msg}" names a span of the trace (span_id ${l.span_id})`);

    // And a line found by its text leads back to the trace.
    const byText = await queryLogs(stack.summary.logsUrl, `"called service-b" service.name:=service-a`);
    const viaLog = byText.find((l) => l.trace_id === trace.traceID);
    assert.ok(viaLog, 'the line is found by its text, with the trace id');
    const back = await request(`${jaeger}/api/traces/${viaLog.trace_id}`);
    assert.equal(back.status, 200);
    assert.equal((back.json?.data as JaegerTrace[] | undefined)?.[0]?.traceID, trace.traceID, "the line's trace_id opens the trace in Jaeger");
  });

  test('Prometheus: every service and the collector are up; requests per route; span metrics from the collector', async () => {
    const jobs = ['service-a', 'service-b', 'preprocessing-edge', 'inference-ensemble', 'inference-efficientnetb0', 'inference-mobilenetv2', 'otel-collector'];
    await poll('up == 1 for every job', async () => {
      const up = await promQuery('up');
      const ok = new Set(up.filter((r) => r.value[1] === '1').map((r) => r.metric.job));
      return jobs.every((j) => ok.has(j)) ? true : undefined;
    });
    await request(`${stack.url('service-a')}/call-service-b`);
    await poll('http_requests_total for the routes hit', async () => {
      const r = await promQuery('http_requests_total');
      const have = (job: string, route: string) => r.some((x) => x.metric.job === job && x.metric.route === route && x.metric.status_code === '200');
      return have('service-a', '/call-service-b') && have('service-b', '/data') && have('preprocessing-edge', '/preprocessing') && have('inference-ensemble', '/ensemble')
        ? true
        : undefined;
    });
    await poll('span metrics from the collector', async () => {
      const r = await promQuery('traces_span_metrics_calls_total');
      const services = new Set(r.map((x) => x.metric.service_name));
      return services.has('service-a') && services.has('inference-ensemble') ? true : undefined;
    });
    // The calls between services, the service graph's edges: client spans name the service called.
    const calls = [
      ['service-a', 'service-b'],
      ['preprocessing-edge', 'inference-ensemble'],
      ['inference-ensemble', 'inference-efficientnetb0'],
      ['inference-ensemble', 'inference-mobilenetv2'],
    ];
    const seen = await poll('span metrics of every call between services, by caller and callee', async () => {
      const r = await promQuery('sum by (service_name, server_service_name) (traces_span_metrics_calls_total{span_kind="SPAN_KIND_CLIENT"})');
      const have = r.filter((x) => x.metric.server_service_name).map((x) => `${x.metric.service_name} -> ${x.metric.server_service_name}`);
      return calls.every(([from, to]) => have.includes(`${from} -> ${to}`)) ? have : undefined;
    });
    assert.deepEqual(seen.sort(), calls.map(([from, to]) => `${from} -> ${to}`).sort(), 'no call to a service that was not called');
  });

  test('Prometheus serves its own web UI (v3, built from source): the targets, rules and alerts pages and their scripts load', async () => {
    const info = (await request(`${prometheus}/api/v1/status/buildinfo`)).json as { data: { version: string } };
    assert.match(info.data.version, /^3\./, 'the local Prometheus is the v3 that compose and the cluster run');
    for (const page of ['/targets', '/rules', '/alerts']) {
      const res = await request(`${prometheus}${page}`);
      assert.equal(res.status, 200, `${page}: ${res.text.slice(0, 200)}`);
      assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
      assert.match(res.text, /<div id="root">/, `${page} is the UI's page, not a placeholder`);
      // The page is only a shell: the app is its scripts, which must load too.
      const scripts = [...res.text.matchAll(/<script[^>]+src="([^"]+)"/g)].map((m) => new URL(m[1], `${prometheus}${page}`).href);
      assert.ok(scripts.length > 0, `${page} names its scripts`);
      for (const src of scripts) {
        const js = await request(src);
        assert.equal(js.status, 200, `${src}`);
        assert.ok(js.text.length > 100_000, `${src} is the UI's bundle (${js.text.length} bytes)`);
      }
    }
  });

  test('the edge ingress refuses OTLP without the token or with a wrong one (401), and nothing of it reaches Jaeger', async () => {
    const ca = readFileSync(stack.summary.edgeIngressCert);
    const url = `${stack.url('edge-ingress')}/v1/traces`;
    const intruder = `intruder-${randomBytes(4).toString('hex')}`;
    const allowed = `allowed-${randomBytes(4).toString('hex')}`;
    const none = await httpsPost(url, otlpSpan(intruder), ca, {});
    assert.equal(none.status, 401, none.body);
    assert.match(none.body, /unauthorized/);
    const wrong = await httpsPost(url, otlpSpan(intruder), ca, { authorization: 'Bearer not-the-token' });
    assert.equal(wrong.status, 401);
    const basic = await httpsPost(url, otlpSpan(intruder), ca, { authorization: `Basic ${stack.summary.edgeOtlpToken}` });
    assert.equal(basic.status, 401);
    // Control: with the token the same request goes through, so the refusal above is the token's doing.
    const ok = await httpsPost(url, otlpSpan(allowed), ca, { authorization: `Bearer ${stack.summary.edgeOtlpToken}` });
    assert.equal(ok.status, 200, ok.body);
    const services = await poll(`${allowed} in Jaeger`, async () => {
      const r = await request(`${jaeger}/api/services`);
      return (r.json?.data as string[] | undefined)?.includes(allowed) ? (r.json.data as string[]) : undefined;
    });
    assert.ok(!services.includes(intruder), 'refused telemetry never reached Jaeger');
  });
});
