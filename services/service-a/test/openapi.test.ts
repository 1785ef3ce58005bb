import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { checkOpenApiDocument, request, ServiceProcess } from '@meridian/test-kit';

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
    const doc = await checkOpenApiDocument(a.url, 'service-a', [
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
