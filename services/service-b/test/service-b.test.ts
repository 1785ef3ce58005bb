import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertProblem, parsePrometheus, request, ServiceProcess } from '@meridian/test-kit';

describe('service-b', () => {
  const b = new ServiceProcess({ folder: 'service-b', name: 'service-b' });
  before(() => b.start());
  after(() => b.stop());

  test('GET / answers status and links', async () => {
    const res = await request(b.url + '/');
    assert.equal(res.status, 200);
    assert.equal(res.json.service, 'service-b');
    assert.equal(res.json.links.data, '/data');
  });

  test('/data answers the items service-a relays', async () => {
    const res = await request(b.url + '/data');
    assert.equal(res.status, 200);
    assert.deepEqual(res.json.items.map((i: { name: string }) => i.name), ['alpha', 'beta', 'gamma']);
    assert.ok(!Number.isNaN(Date.parse(res.json.generatedAt)));
  });

  test('/healthy and /ready answer 200', async () => {
    assert.equal((await request(b.url + '/healthy')).status, 200);
    assert.equal((await request(b.url + '/ready')).status, 200);
  });

  test('unknown routes and methods answer problem+json', async () => {
    assertProblem(await request(b.url + '/nope'), 404, 'not-found');
    assertProblem(await request(b.url + '/data', { method: 'DELETE' }), 404, 'not-found');
  });

  test('/metrics counts /data by route and status', async () => {
    await request(b.url + '/data');
    const samples = parsePrometheus((await request(b.url + '/metrics')).text);
    const s = samples.find((x) => x.name === 'http_requests_total' && x.labels.route === '/data' && x.labels.status_code === '200');
    assert.ok(s && s.value >= 1);
  });
});
