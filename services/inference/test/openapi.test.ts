import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request, ServiceProcess } from '@meridian/test-kit';
import { ensureModels } from './helpers';

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

function checkTensorBody(doc: Doc, path: string): void {
  const content = doc.paths[path].post.requestBody?.content ?? {};
  assert.deepEqual(Object.keys(content).sort(), ['application/json', 'application/octet-stream']);
  assert.equal(content['application/octet-stream'].schema.format, 'binary');
  assert.equal(content['application/octet-stream'].schema.type, 'string');
  assert.deepEqual((content['application/json'].schema as { required: string[] }).required, ['data']);
}

describe('inference OpenAPI documents, per role', { timeout: 60_000 }, () => {
  let ensemble: ServiceProcess;
  let model: ServiceProcess;

  before(async () => {
    ensureModels();
    [ensemble, model] = await Promise.all([
      new ServiceProcess({ folder: 'inference', name: 'inference-ensemble', env: { ROLE: 'ensemble', EFFICIENTNETB0_URL: 'http://127.0.0.1:9', MOBILENETV2_URL: 'http://127.0.0.1:9' }, readyPath: '/healthy' }).start(30_000),
      new ServiceProcess({ folder: 'inference', name: 'inference-mobilenetv2', env: { ROLE: 'mobilenetv2' }, readyPath: '/healthy' }).start(30_000),
    ]);
  });
  after(async () => {
    await Promise.all([ensemble, model].filter(Boolean).map((p) => p.stop()));
  });

  test('the ensemble documents POST /ensemble: binary or JSON tensor, degraded answers, 503 when both members are down', async () => {
    const doc = await checkDocument(ensemble.url, 'inference-ensemble', ['GET /', 'POST /ensemble']);
    checkTensorBody(doc, '/ensemble');
    const ok = doc.paths['/ensemble'].post.responses['200'].content?.['application/json'].schema as { required: string[] };
    assert.ok(ok.required.includes('degraded'));
    assert.ok(doc.paths['/ensemble'].post.responses['503']);
  });

  test('a model role documents POST /predict', async () => {
    const doc = await checkDocument(model.url, 'inference-mobilenetv2', ['GET /', 'POST /predict']);
    checkTensorBody(doc, '/predict');
  });
});
