import assert from 'node:assert/strict';
import http from 'node:http';
import { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { assertProblem, request, ServiceProcess } from '@meridian/test-kit';
import { ensembleAnswer, rawImage } from './helpers';

const image = () => rawImage(64, 48, (x, y) => [x * 4, y * 5, 90]).png().toBuffer();

describe('edge → ensemble resilience', { timeout: 60_000 }, () => {
  let answer: (res: http.ServerResponse) => void = () => undefined;
  let posts = 0;
  let fake: http.Server;
  let edge: ServiceProcess;

  before(async () => {
    fake = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        if (req.url === '/healthy') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
        posts += 1;
        answer(res);
      });
    });
    await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
    edge = await new ServiceProcess({
      folder: 'preprocessing-edge',
      name: 'preprocessing-edge',
      env: { INFERENCE_URL: `http://127.0.0.1:${(fake.address() as AddressInfo).port}`, LOG_LEVEL: 'warn' },
    }).start();
  });

  after(async () => {
    await edge?.stop();
    await new Promise<void>((resolve) => fake.close(() => resolve()));
  });

  const classify = async () => request(`${edge.url}/preprocessing`, { method: 'POST', body: await image(), headers: { 'content-type': 'image/png' } });

  it('never retries the POST: one 503 from the ensemble is one attempt, answered 502', async () => {
    answer = (res) => void res.writeHead(503).end();
    posts = 0;
    assertProblem(await classify(), 502, 'upstream-error');
    assert.equal(posts, 1);
  });

  it("passes the ensemble's Retry-After on when it says it is unavailable", async () => {
    answer = (res) =>
      void res
        .writeHead(503, { 'content-type': 'application/problem+json', 'retry-after': '7' })
        .end(JSON.stringify({ type: 'urn:meridian:problem:ensemble-unavailable', title: 'Service unavailable', status: 503 }));
    const res = await classify();
    assertProblem(res, 503, 'upstream-unavailable');
    assert.equal(res.headers.get('retry-after'), '7');
  });

  it('says when the ensemble answered from one model only', async () => {
    answer = (res) =>
      void res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ ...ensembleAnswer(), degraded: true, failed: [{ member: 'mobilenetv2', status: 502, type: 'x' }] }));
    const res = await classify();
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.degraded, true);
    assert.deepEqual(res.json.failedMembers, ['mobilenetv2']);
    answer = (r) => void r.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(ensembleAnswer()));
    const normal = await classify();
    assert.equal(normal.json.degraded, false);
    assert.equal(normal.json.failedMembers, undefined);
  });
});
