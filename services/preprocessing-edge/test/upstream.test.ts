import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { freePort, HttpResult, request, ServiceProcess } from '@meridian/test-kit';
import { FakeEnsemble, rawImage } from './helpers';

function assertProblem(res: HttpResult, status: number, slug: string): void {
  assert.equal(res.status, status, `expected ${status} ${slug}, got ${res.status}: ${res.text}`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
  assert.equal(res.json.type, `urn:meridian:problem:${slug}`, res.text);
}

const image = () => rawImage(64, 48, (x, y) => [x * 4, y * 5, 90]).png().toBuffer();

describe('when the ensemble misbehaves', { timeout: 60_000 }, () => {
  const fake = new FakeEnsemble();
  let edge: ServiceProcess;

  before(async () => {
    const url = await fake.start();
    edge = await new ServiceProcess({ folder: 'preprocessing-edge', name: 'preprocessing-edge', env: { INFERENCE_URL: url, INFERENCE_TIMEOUT_MS: '400' } }).start();
  });

  after(async () => {
    await edge?.stop();
    await fake.stop();
  });

  const classify = async () => request(`${edge.url}/preprocessing`, { method: 'POST', body: await image(), headers: { 'content-type': 'image/png' } });

  it('answers 504 when the ensemble is slower than INFERENCE_TIMEOUT_MS', async () => {
    fake.mode = 'slow';
    const started = Date.now();
    const res = await classify();
    assertProblem(res, 504, 'upstream-timeout');
    assert.match(res.json.detail, /inference-ensemble did not answer within 400 ms/);
    assert.ok(Date.now() - started < 3000, `took ${Date.now() - started} ms`);
  });

  it('answers 502 when the ensemble fails or answers something unexpected', async () => {
    for (const [mode, detail] of [
      ['error500', /answered 500/],
      ['error400', /answered 400/],
      ['malformed', /probabilities must be 1000 numbers/],
      ['not-json', /not a JSON object/],
    ] as const) {
      fake.mode = mode;
      const res = await classify();
      assertProblem(res, 502, 'upstream-error');
      assert.match(res.json.detail, detail, mode);
    }
  });

  it('is ready only while the ensemble is healthy', async () => {
    fake.mode = 'ok';
    assert.equal((await request(`${edge.url}/ready`)).status, 200);
    fake.healthyStatus = 503;
    const res = await request(`${edge.url}/ready`);
    assert.equal(res.status, 503);
    assert.match(res.text, /inference-ensemble/);
    fake.healthyStatus = 200;
    assert.equal((await request(`${edge.url}/ready`)).status, 200);
    assert.equal((await classify()).status, 200);
  });
});

describe('when the ensemble is unreachable', { timeout: 60_000 }, () => {
  let edge: ServiceProcess;

  before(async () => {
    // A port nothing listens on.
    const closed = await freePort();
    edge = await new ServiceProcess({
      folder: 'preprocessing-edge',
      name: 'preprocessing-edge',
      env: { INFERENCE_URL: `http://127.0.0.1:${closed}` },
      readyPath: '/healthy',
    }).start();
  });

  after(async () => {
    await edge?.stop();
  });

  it('answers 502 quickly', async () => {
    const started = Date.now();
    const res = await request(`${edge.url}/preprocessing`, { method: 'POST', body: await image(), headers: { 'content-type': 'image/png' } });
    assertProblem(res, 502, 'upstream-unavailable');
    assert.match(res.json.detail, /inference-ensemble is unreachable/);
    assert.ok(Date.now() - started < 3000, `took ${Date.now() - started} ms`);
  });

  it('is alive but not ready', async () => {
    assert.equal((await request(`${edge.url}/healthy`)).status, 200);
    const started = Date.now();
    const res = await request(`${edge.url}/ready`);
    assert.equal(res.status, 503);
    const checks = res.json.checks ?? res.json.details;
    assert.equal(checks['inference-ensemble'].status, 'down', res.text);
    assert.match(res.text, /inference-ensemble is unreachable/);
    assert.ok(Date.now() - started < 3000, `took ${Date.now() - started} ms`);
  });
});
