import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { checkOpenApiDocument, newTraceparent, OtlpReceiver, otlpTracingEnv, request, ServiceProcess } from '@meridian/test-kit';

describe('service-b OpenAPI document and hardening', { timeout: 60_000 }, () => {
  const receiver = new OtlpReceiver();
  let b: ServiceProcess;

  before(async () => {
    const otlp = await receiver.start();
    b = await new ServiceProcess({
      folder: 'service-b',
      name: 'service-b',
      env: otlpTracingEnv(otlp),
    }).start();
  });
  after(async () => {
    await b?.stop();
    await receiver.stop();
  });

  test('/openapi.json documents every route, errors as problem+json', async () => {
    const doc = await checkOpenApiDocument(b.url, 'service-b', ['GET /', 'GET /data']);
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
