import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { checkOpenApiDocument, type OpenApiDoc, ServiceProcess } from '@meridian/test-kit';
import { ensureModels } from './helpers';

function checkTensorBody(doc: OpenApiDoc, path: string): void {
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
    const doc = await checkOpenApiDocument(ensemble.url, 'inference-ensemble', ['GET /', 'POST /ensemble']);
    checkTensorBody(doc, '/ensemble');
    const ok = doc.paths['/ensemble'].post.responses['200'].content?.['application/json'].schema as { required: string[] };
    assert.ok(ok.required.includes('degraded'));
    assert.ok(doc.paths['/ensemble'].post.responses['503']);
  });

  test('a model role documents POST /predict', async () => {
    const doc = await checkOpenApiDocument(model.url, 'inference-mobilenetv2', ['GET /', 'POST /predict']);
    checkTensorBody(doc, '/predict');
  });
});
