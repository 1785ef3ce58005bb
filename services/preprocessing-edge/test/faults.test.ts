import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { assertProblem, type FakeUpstream, request, ServiceProcess, startFakeUpstream } from '@meridian/test-kit';
import { ensembleAnswer, rawImage } from './helpers';

const image = () => rawImage(64, 48, (x, y) => [x * 4, y * 5, 90]).png().toBuffer();

describe('edge → ensemble resilience', { timeout: 60_000 }, () => {
  let answer: (res: http.ServerResponse) => void = () => undefined;
  let posts = 0;
  let fake: FakeUpstream;
  let edge: ServiceProcess;

  before(async () => {
    fake = await startFakeUpstream((_req, res) => {
      posts += 1;
      answer(res);
    });
    edge = await new ServiceProcess({
      folder: 'preprocessing-edge',
      name: 'preprocessing-edge',
      env: { INFERENCE_URL: fake.url, LOG_LEVEL: 'warn' },
    }).start();
  });

  after(async () => {
    await edge?.stop();
    await fake?.close();
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
