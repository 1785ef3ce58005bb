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

describe('preprocessing-edge OpenAPI document', { timeout: 60_000 }, () => {
  let edge: ServiceProcess;

  before(async () => {
    edge = await new ServiceProcess({ folder: 'preprocessing-edge', name: 'preprocessing-edge', env: { INFERENCE_URL: 'http://127.0.0.1:9' }, readyPath: '/healthy' }).start();
  });
  after(async () => {
    await edge?.stop();
  });

  test('documents the image upload: raw bodies as binary with their media types, and multipart', async () => {
    const doc = await checkDocument(edge.url, 'preprocessing-edge', ['GET /', 'POST /preprocessing']);
    const content = doc.paths['/preprocessing'].post.requestBody?.content ?? {};
    assert.deepEqual(Object.keys(content).sort(), ['image/jpeg', 'image/png', 'image/webp', 'multipart/form-data']);
    for (const t of ['image/jpeg', 'image/png', 'image/webp']) assert.deepEqual(content[t].schema, { type: 'string', format: 'binary' }, t);
    const form = content['multipart/form-data'].schema as { properties: Record<string, { format?: string }> };
    assert.equal(form.properties.image.format, 'binary');
    assert.deepEqual(
      Object.keys(doc.paths['/preprocessing'].post.responses).sort(),
      ['200', '400', '413', '415', '422', '502', '503', '504', 'default'],
    );
  });
});
