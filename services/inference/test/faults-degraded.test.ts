import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { assertProblem, type FakeUpstream, parsePrometheus, request, ServiceProcess, startFakeUpstream } from '@meridian/test-kit';
import { ensureModels, imageTensor, octet, toBinary } from './helpers';

describe('ensemble with members going down', { timeout: 120_000 }, () => {
  let efficientnet: ServiceProcess;
  let mobilenet: ServiceProcess;
  let ensemble: ServiceProcess;
  const input = toBinary(imageTensor(7));

  before(async () => {
    ensureModels();
    [efficientnet, mobilenet] = await Promise.all([
      new ServiceProcess({ folder: 'inference', name: 'inference-efficientnetb0', env: { ROLE: 'efficientnetb0', LOG_LEVEL: 'warn' } }).start(30_000),
      new ServiceProcess({ folder: 'inference', name: 'inference-mobilenetv2', env: { ROLE: 'mobilenetv2', LOG_LEVEL: 'warn' } }).start(30_000),
    ]);
    ensemble = await new ServiceProcess({
      folder: 'inference',
      name: 'inference-ensemble',
      env: { ROLE: 'ensemble', EFFICIENTNETB0_URL: efficientnet.url, MOBILENETV2_URL: mobilenet.url, MODEL_TIMEOUT_MS: '3000', HTTP_BREAKER_HALF_OPEN_MS: '4000' },
    }).start(30_000);
  });

  after(async () => {
    await Promise.all([ensemble, efficientnet, mobilenet].filter(Boolean).map((p) => p.stop()));
  });

  it('answers from both members while both are up: degraded false', async () => {
    const res = await request(ensemble.url + '/ensemble', octet(input));
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.degraded, false);
    assert.deepEqual(res.json.failed, []);
    assert.deepEqual(res.json.members, ['efficientnetb0', 'mobilenetv2']);
  });

  it('with mobilenetv2 killed, answers from efficientnetb0 alone and says so', async () => {
    const alone = await request(efficientnet.url + '/predict', octet(input));
    await mobilenet.stop('SIGKILL');
    const started = Date.now();
    const res = await request(ensemble.url + '/ensemble', octet(input));
    assert.equal(res.status, 200, res.text);
    assert.ok(Date.now() - started < 3000, 'no wait for the dead member');
    assert.equal(res.json.degraded, true);
    assert.deepEqual(res.json.members, ['efficientnetb0']);
    assert.equal(res.json.failed.length, 1);
    assert.equal(res.json.failed[0].member, 'mobilenetv2');
    assert.equal(res.json.failed[0].status, 502);
    assert.equal(res.json.timings.mobilenetv2Ms, null);
    assert.deepEqual(res.json.probabilities, alone.json.probabilities, "the answer is efficientnetb0's own");
    const samples = parsePrometheus((await request(ensemble.url + '/metrics')).text);
    const degraded = samples.find((s) => s.name === 'inference_ensemble_degraded_total' && s.labels.member === 'mobilenetv2');
    assert.ok(degraded && degraded.value >= 1, 'inference_ensemble_degraded_total{member="mobilenetv2"}');
  });

  it('with both killed, answers 503 problem+json with Retry-After', async () => {
    await efficientnet.stop('SIGKILL');
    const res = await request(ensemble.url + '/ensemble', octet(input));
    assertProblem(res, 503, 'ensemble-unavailable');
    const retryAfter = Number(res.headers.get('retry-after'));
    assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 4, `Retry-After ${res.headers.get('retry-after')}`);
    assert.deepEqual(res.json.failed.map((f: { member: string }) => f.member).sort(), ['efficientnetb0', 'mobilenetv2']);
    assert.equal((await request(ensemble.url + '/healthy')).status, 200, 'the ensemble itself lives on');
    assert.equal((await request(ensemble.url + '/ready')).status, 503, 'and is not ready');
  });
});

describe('ensemble retries a member that answers 503 (a prediction is idempotent)', { timeout: 60_000 }, () => {
  let fake: FakeUpstream;
  let ensemble: ServiceProcess;
  let predicts = 0;

  before(async () => {
    const probabilities = Array.from({ length: 1000 }, (_, i) => (i === 3 ? 0.5 : 0.5 / 999));
    fake = await startFakeUpstream((_req, res) => {
      predicts += 1;
      // Each member's first attempt meets a restarting server.
      if (predicts <= 2) return void res.writeHead(503).end();
      const body = { model: 'mobilenetv2', untrained: true, weights: 'fake', probabilities, top5: [{ index: 3, label: 'x', score: 0.5 }], inferenceMs: 1 };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
    const url = fake.url;
    ensemble = await new ServiceProcess({
      folder: 'inference',
      name: 'inference-ensemble',
      env: { ROLE: 'ensemble', EFFICIENTNETB0_URL: url, MOBILENETV2_URL: url, LOG_LEVEL: 'warn' },
    }).start(30_000);
  });

  after(async () => {
    await ensemble?.stop();
    await fake?.close();
  });

  it('answers 200, not degraded, after one retry per member', async () => {
    predicts = 0;
    const res = await request(ensemble.url + '/ensemble', octet(toBinary(imageTensor(8))));
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.degraded, false);
    assert.equal(predicts, 4, 'two members × (one 503 + one retry)');
  });
});
