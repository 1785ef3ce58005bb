import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { newTraceparent, OtlpReceiver, otlpTracingEnv, request, ServiceProcess, type ReceivedSpan } from '@meridian/test-kit';

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
    // The span metrics' service graph relies on it: the client span names the service it calls.
    assert.equal(parent.attributes['server.service.name'], 'service-b', 'the client span names the service it calls');
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
    const probed = receiver.spans.filter((s) => /healthy|metrics|ready/.test(String(s.attributes['url.path'] ?? s.attributes['http.target'] ?? s.name)));
    assert.deepEqual(probed.map((s) => `${s.service}:${s.name} ${JSON.stringify(s.attributes)}`), []);
  });

  test('the span tree of the contract: a server span named by its route, one handler span in it, client spans in the handler; each log line carries its span', async () => {
    const [, a] = procs;
    const SERVER = 2;
    const INTERNAL = 1;
    const CLIENT = 3;
    const cases = [
      { method: 'GET', path: '/', route: '/', status: 200, spans: 2 },
      { method: 'POST', path: '/hash', route: '/hash', status: 200, spans: 2, body: '{"data":"tree"}' },
      { method: 'GET', path: '/call-service-b', route: '/call-service-b', status: 200, spans: 3 },
      { method: 'GET', path: '/serverError', route: '/serverError', status: 500, spans: 2 },
      { method: 'GET', path: '/no-such-route', route: undefined, status: 404, spans: 1 },
    ];
    for (const c of cases) {
      const { traceparent, traceId } = newTraceparent();
      const callerSpanId = traceparent.split('-')[2];
      const headers: Record<string, string> = { traceparent, ...(c.body ? { 'content-type': 'application/json' } : {}) };
      const res = await request(a.url + c.path, { method: c.method, headers, body: c.body });
      assert.equal(res.status, c.status, `${c.method} ${c.path}`);
      const ours = (): ReceivedSpan[] => receiver.trace(traceId).filter((s) => s.service === 'service-a');
      const until = Date.now() + 10_000;
      while (ours().length < c.spans && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
      await new Promise((r) => setTimeout(r, 300));
      const spans = ours();
      const list = spans.map((s) => `${s.kind}:${s.name}`).join(', ');
      assert.equal(spans.length, c.spans, `${c.method} ${c.path}: service-a spans ${list}`);

      const server = spans.find((s) => s.kind === SERVER);
      assert.ok(server, `${c.path}: a server span among ${list}`);
      assert.equal(server.parentSpanId, callerSpanId, `${c.path}: the server span continues the caller's traceparent`);
      assert.equal(server.name, c.route ? `${c.method} ${c.route}` : c.method);
      assert.equal(server.attributes['http.route'], c.route);
      assert.equal(server.attributes['http.request.method'], c.method);
      assert.equal(server.attributes['http.response.status_code'], c.status);
      assert.equal(server.attributes['url.path'], c.path);
      assert.equal(server.attributes['url.scheme'], 'http');
      assert.equal(server.status.code ?? 0, c.status >= 500 ? 2 : 0, `${c.path}: the server span fails only on a 5xx`);

      const access = a.logs().find((l) => l.trace_id === traceId && /^request (completed|errored)$/.test(String(l.msg)));
      assert.ok(access, `${c.path}: an access log line with the trace id`);
      assert.equal(access.span_id, server.spanId, `${c.path}: the access line carries the server span`);
      if (!c.route) continue;

      const handler = spans.find((s) => s.kind === INTERNAL);
      assert.ok(handler, `${c.path}: a handler span among ${list}`);
      assert.equal(handler.parentSpanId, server.spanId, `${c.path}: the handler span is inside the server span`);
      assert.match(handler.name, /^AppController\.\w+$/);
      assert.equal(handler.attributes['http.route'], c.route);
      if (c.path === '/call-service-b') {
        const client = spans.find((s) => s.kind === CLIENT);
        assert.equal(client?.parentSpanId, handler.spanId, 'the client span is inside the handler span');
        const called = a.logs().find((l) => l.trace_id === traceId && l.msg === 'called service-b');
        assert.equal(called?.span_id, handler.spanId, "the handler's log line carries the handler span");
      }
    }
  });
});
