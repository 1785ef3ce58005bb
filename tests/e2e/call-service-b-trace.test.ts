import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { OtlpReceiver, otlpTracingEnv, request, ServiceProcess } from '@meridian/test-kit';

/** Spans are collected by an OTLP/HTTP receiver of the test's own; the pipeline tests use the real collector. */
describe('trace of /call-service-b across service-a and service-b', () => {
  const receiver = new OtlpReceiver();
  const procs: ServiceProcess[] = [];

  before(async () => {
    const endpoint = await receiver.start();
    const otel = otlpTracingEnv(endpoint, { scheduleDelayMs: 100 });
    const b = await new ServiceProcess({ folder: 'service-b', name: 'service-b', env: otel }).start();
    procs.push(b);
    procs.push(await new ServiceProcess({ folder: 'service-a', name: 'service-a', env: { ...otel, SERVICE_B_URL: b.url } }).start());
  });
  after(async () => {
    await Promise.all(procs.map((p) => p.stop()));
    await receiver.stop();
  });

  test('one trace, service-b server span is a child of service-a client span, logs carry the trace id', async () => {
    const [, a] = procs;
    const res = await request(a.url + '/call-service-b');
    assert.equal(res.status, 200);
    const line = await a.waitForLog((l) => l.msg === 'called service-b');
    const traceId = String(line.trace_id);
    assert.match(traceId, /^[0-9a-f]{32}$/);

    const spans = await receiver.waitForTrace(traceId, ['service-a', 'service-b']);
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    const SERVER = 2;
    const CLIENT = 3;
    const aServer = spans.find((s) => s.service === 'service-a' && s.kind === SERVER && s.parentSpanId === '');
    assert.ok(aServer, `service-a root server span in ${spans.map((s) => `${s.service}:${s.name}`).join(', ')}`);
    const bServer = spans.find((s) => s.service === 'service-b' && s.kind === SERVER);
    assert.ok(bServer, 'service-b server span');
    const parent = byId.get(bServer.parentSpanId);
    assert.ok(parent, 'service-b server span has its parent in the trace');
    assert.equal(parent.service, 'service-a');
    assert.equal(parent.kind, CLIENT, 'parent is service-a outbound client span');
    // Every span links up to the root: nothing dangles.
    for (const s of spans) {
      let cur = s;
      for (let hops = 0; cur.parentSpanId && hops < 50; hops++) {
        const p = byId.get(cur.parentSpanId);
        assert.ok(p, `span ${s.service}:${s.name} has a parent missing from the trace`);
        cur = p;
      }
      assert.equal(cur.spanId, aServer.spanId);
    }
    // The telemetry contract's resource attributes.
    assert.equal(aServer.resource['service.namespace'], 'meridian');
    assert.equal(aServer.resource['deployment.environment'], 'local');
    assert.ok(aServer.resource['service.version']);
    // Probes and scrapes are never traced.
    await request(a.url + '/healthy');
    await request(a.url + '/metrics');
    await new Promise((r) => setTimeout(r, 500));
    assert.ok(!receiver.spans.some((s) => /healthy|metrics|ready/.test(String(s.attributes['url.path'] ?? s.attributes['http.target'] ?? s.name))));
  });
});
