import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { checkOpenApiDocument, ServiceProcess } from '@meridian/test-kit';

describe('preprocessing-edge OpenAPI document', { timeout: 60_000 }, () => {
  let edge: ServiceProcess;

  before(async () => {
    edge = await new ServiceProcess({ folder: 'preprocessing-edge', name: 'preprocessing-edge', env: { INFERENCE_URL: 'http://127.0.0.1:9' }, readyPath: '/healthy' }).start();
  });
  after(async () => {
    await edge?.stop();
  });

  test('documents the image upload: raw bodies as binary with their media types, and multipart', async () => {
    const doc = await checkOpenApiDocument(edge.url, 'preprocessing-edge', ['GET /', 'POST /preprocessing']);
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
