import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { newTraceparent, OtlpReceiver, request, ServiceProcess } from '@meridian/test-kit';

type Doc = {
  openapi: string;
  info: { title: string };
  paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: Record<string, unknown> }> }; responses: Record<string, { content?: Record<string, { schema: unknown }> }> }>>;
  components: { schemas: Record<string, { required?: string[] }> };
};

/** Fetches /openapi.json and checks what every Meridian document must have; answers it. */
async function checkDocument(url: string, title: string, expected: string[], failOnly: string[] = []): Promise<Doc> {
  const res = await request(url + '/openapi.json');
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  const doc = res.json as Doc;
  assert.match(doc.openapi, /^3\./);
  assert.equal(doc.info.title, title);
  const operations = Object.entries(doc.paths).flatMap(([p, item]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${p}`));
  assert.deepEqual(operations.sort(), [...expected, 'GET /healthy', 'GET /metrics', 'GET /ready'].sort(), 'every route, and only those');
  assert.deepEqual(doc.components.schemas.Problem.required, ['type', 'title', 'status']);
  for (const [p, item] of Object.entries(doc.paths)) {
    for (const [m, op] of Object.entries(item)) {
      const errors = Object.entries(op.responses).filter(([status]) => status === 'default' || Number(status) >= 400);
      assert.ok(errors.some(([status]) => status === 'default'), `${m} ${p} documents its other errors`);
      for (const [status, r] of errors) {
        assert.deepEqual(r.content, { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } }, `${m} ${p} ${status} is problem+json`);
      }
      if (failOnly.includes(p)) continue;
      const ok = Object.entries(op.responses).find(([status]) => /^2/.test(status));
      assert.ok(ok?.[1].content, `${m} ${p} documents its success body`);
    }
  }
  // Security headers from helmet on every answer, the document included.
  assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
  assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'self'/);
  assert.equal(res.headers.get('x-frame-options'), 'SAMEORIGIN');
  return doc;
}

describe('service-b OpenAPI document and hardening', { timeout: 60_000 }, () => {
  const receiver = new OtlpReceiver();
  let b: ServiceProcess;

  before(async () => {
    const otlp = await receiver.start();
    b = await new ServiceProcess({
      folder: 'service-b',
      name: 'service-b',
      env: { OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_EXPORTER_OTLP_ENDPOINT: otlp, OTEL_BSP_SCHEDULE_DELAY: '200' },
    }).start();
  });
  after(async () => {
    await b?.stop();
    await receiver.stop();
  });

  test('/openapi.json documents every route, errors as problem+json', async () => {
    const doc = await checkDocument(b.url, 'service-b', ['GET /', 'GET /data']);
    const data = doc.paths['/data'].get.responses['200'].content?.['application/json'].schema as { required: string[] };
    assert.deepEqual(data.required, ['service', 'items', 'generatedAt']);
  });

  test('the document is served untraced and unlogged; an API call is traced', async () => {
    const doc = newTraceparent();
    const api = newTraceparent();
    await request(b.url + '/openapi.json', { headers: { traceparent: doc.traceparent } });
    await request(b.url + '/data', { headers: { traceparent: api.traceparent } });
    await receiver.waitForTrace(api.traceId, ['service-b']);
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(receiver.trace(doc.traceId), []);
    assert.ok(!b.logs().some((l) => JSON.stringify(l).includes('/openapi.json')), 'no request log line for the document');
  });

  test('security headers on API answers and on problem+json errors', async () => {
    for (const path of ['/data', '/no/such/route']) {
      const res = await request(b.url + path);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff', path);
      assert.equal(res.headers.get('x-frame-options'), 'SAMEORIGIN', path);
      assert.equal(res.headers.get('x-powered-by'), null, path);
    }
  });
});
