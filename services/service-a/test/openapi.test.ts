import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request, ServiceProcess } from '@meridian/test-kit';

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

describe('service-a OpenAPI document', { timeout: 60_000 }, () => {
  let a: ServiceProcess;

  before(async () => {
    // No service-b: the document does not depend on it.
    a = await new ServiceProcess({ folder: 'service-a', name: 'service-a', env: { SERVICE_B_URL: 'http://127.0.0.1:9' }, readyPath: '/healthy' }).start();
  });
  after(async () => {
    await a?.stop();
  });

  test('/openapi.json documents every route with its body and problem+json errors', async () => {
    const doc = await checkDocument(a.url, 'service-a', [
      'GET /',
      'GET /serverError',
      'GET /notFound',
      'GET /logs',
      'GET /crash',
      'GET /example',
      'GET /call-service-b',
      'POST /hash',
    ], ['/serverError', '/notFound']);
    const hash = doc.paths['/hash'].post;
    assert.deepEqual(Object.keys(hash.requestBody?.content ?? {}).sort(), ['application/json', 'application/x-www-form-urlencoded']);
    const schema = hash.requestBody!.content['application/json'].schema as { required: string[]; properties: Record<string, { maxLength?: number; maximum?: number }> };
    assert.deepEqual(schema.required, ['data']);
    assert.equal(schema.properties.data.maxLength, 65_536);
    assert.equal(schema.properties.iterations.maximum, 100_000);
    assert.deepEqual(Object.keys(hash.responses).sort(), ['200', '400', '413', '415', 'default']);
    assert.ok(doc.paths['/call-service-b'].get.responses['503'], 'the circuit-open answer is documented');
  });

  test('a body over the limit, a wrong content type and a bad field are 4xx problems, never 5xx', async () => {
    const big = await request(a.url + '/hash', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ data: 'x'.repeat(200_000) }) });
    assert.equal(big.status, 413);
    const xml = await request(a.url + '/hash', { method: 'POST', headers: { 'content-type': 'application/xml' }, body: '<a/>' });
    assert.equal(xml.status, 415);
    const bad = await request(a.url + '/hash', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"data": 1, "extra": true}' });
    assert.equal(bad.status, 400);
    for (const r of [big, xml, bad]) assert.match(r.headers.get('content-type') ?? '', /^application\/problem\+json/);
  });
});
