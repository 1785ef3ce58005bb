import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { AddressInfo } from 'node:net';
import { OtlpReceiver, otlpTracingEnv, ServiceProcess, parsePrometheus, request } from '@meridian/test-kit';
import { argmax, ensureModels, imageTensor, json, octet, sum, toBinary, toJson } from './helpers';

describe('ensemble role', { timeout: 120_000 }, () => {
  const receiver = new OtlpReceiver();
  let efficientnet: ServiceProcess;
  let mobilenet: ServiceProcess;
  let ensemble: ServiceProcess;
  const input = toBinary(imageTensor(21));

  before(async () => {
    ensureModels();
    const otlp = await receiver.start();
    const tracing = otlpTracingEnv(otlp);
    [efficientnet, mobilenet] = await Promise.all([
      new ServiceProcess({ folder: 'inference', name: 'inference-efficientnetb0', env: { ROLE: 'efficientnetb0', ...tracing } }).start(30_000),
      new ServiceProcess({ folder: 'inference', name: 'inference-mobilenetv2', env: { ROLE: 'mobilenetv2', ...tracing } }).start(30_000),
    ]);
    ensemble = await new ServiceProcess({
      folder: 'inference',
      name: 'inference-ensemble',
      env: { ROLE: 'ensemble', EFFICIENTNETB0_URL: efficientnet.url, MOBILENETV2_URL: mobilenet.url, ...tracing },
    }).start(30_000);
  });

  after(async () => {
    await Promise.all([ensemble, efficientnet, mobilenet].filter(Boolean).map((p) => p.stop()));
    await receiver.stop();
  });

  it('is ready when both members are, and GET / names them', async () => {
    const ready = await request(ensemble.url + '/ready');
    assert.equal(ready.status, 200, ready.text);
    const index = await request(ensemble.url + '/');
    assert.equal(index.json.role, 'ensemble');
    assert.deepEqual(index.json.members, { efficientnetb0: efficientnet.url, mobilenetv2: mobilenet.url });
    assert.equal(index.json.links.ensemble, 'POST /ensemble');
  });

  it('averages the two models element-wise', async () => {
    const [res, e, m] = await Promise.all([
      request(ensemble.url + '/ensemble', octet(input)),
      request(efficientnet.url + '/predict', octet(input)),
      request(mobilenet.url + '/predict', octet(input)),
    ]);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.model, 'ensemble');
    assert.deepEqual(res.json.members, ['efficientnetb0', 'mobilenetv2']);
    assert.equal(res.json.untrained, true);
    const p: number[] = res.json.probabilities;
    assert.equal(p.length, 1000);
    for (let i = 0; i < 1000; i++) {
      const mean = (e.json.probabilities[i] + m.json.probabilities[i]) / 2;
      assert.ok(Math.abs(p[i] - mean) <= 1e-6, `class ${i}: ${p[i]} vs ${mean}`);
    }
    assert.ok(Math.abs(sum(p) - 1) <= 1e-4);
    const top5: { index: number; score: number; label: string }[] = res.json.top5;
    assert.equal(top5.length, 5);
    assert.equal(top5[0].index, argmax(p));
    for (let i = 1; i < top5.length; i++) assert.ok(top5[i - 1].score >= top5[i].score, 'top5 sorted by score');
    const t = res.json.timings;
    for (const k of ['efficientnetb0Ms', 'mobilenetv2Ms', 'totalMs']) assert.equal(typeof t[k], 'number', k);
    assert.ok(t.totalMs >= Math.max(t.efficientnetb0Ms, t.mobilenetv2Ms) - 1);
  });

  it('accepts the JSON form too, with the same answer', async () => {
    const data = imageTensor(21);
    const [bin, js] = await Promise.all([request(ensemble.url + '/ensemble', octet(input)), request(ensemble.url + '/ensemble', json(toJson(data)))]);
    assert.equal(js.status, 200, js.text);
    assert.deepEqual(js.json.probabilities, bin.json.probabilities);
  });

  it('answers 400 to a bad tensor and 415 to another content type', async () => {
    const res = await request(ensemble.url + '/ensemble', octet(input.subarray(4)));
    assert.equal(res.status, 400);
    assert.ok(res.headers.get('content-type')?.startsWith('application/problem+json'));
    assert.ok(res.json.type.endsWith('invalid-tensor'));
    const other = await request(ensemble.url + '/ensemble', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' });
    assert.equal(other.status, 415);
  });

  it('records inference_duration_seconds{model="ensemble"}', async () => {
    const res = await request(ensemble.url + '/metrics');
    const count = parsePrometheus(res.text).find((s) => s.name === 'inference_duration_seconds_count' && s.labels.model === 'ensemble');
    assert.ok(count && count.value >= 1, `count ${count?.value}`);
  });

  it('continues the caller\'s trace into both members, each span tagged with meridian.model', async () => {
    const traceId = randomBytes(16).toString('hex');
    const res = await request(ensemble.url + '/ensemble', octet(input, { traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` }));
    assert.equal(res.status, 200);
    const spans = await receiver.waitForTrace(traceId, ['inference-ensemble', 'inference-efficientnetb0', 'inference-mobilenetv2']);
    for (const [service, model] of [
      ['inference-ensemble', 'ensemble'],
      ['inference-efficientnetb0', 'efficientnetb0'],
      ['inference-mobilenetv2', 'mobilenetv2'],
    ]) {
      assert.ok(
        spans.some((s) => s.service === service && s.attributes['meridian.model'] === model),
        `${service}: no span with meridian.model=${model} among ${spans.filter((s) => s.service === service).map((s) => s.name)}`,
      );
    }
    // /ready has been called above: its probes of the members' /healthy must not be traced.
    const probes = receiver.spans.filter((s) => JSON.stringify(s.attributes).includes('/healthy'));
    assert.deepEqual(probes.map((s) => `${s.service} ${s.name}`), []);
  });

  it('answers degraded (from the other member) when a member is down, and is no longer ready', async () => {
    await mobilenet.stop();
    const res = await request(ensemble.url + '/ensemble', octet(input));
    assert.equal(res.status, 200);
    assert.equal(res.json.degraded, true);
    assert.equal(res.json.failed[0].member, 'mobilenetv2');
    assert.match(res.json.failed[0].detail, /inference-mobilenetv2/);
    const ready = await request(ensemble.url + '/ready');
    assert.equal(ready.status, 503);
    assert.match(ready.text, /mobilenetv2/);
  });
});

describe('ensemble role with a member that never answers', { timeout: 60_000 }, () => {
  let stall: http.Server;
  let ensemble: ServiceProcess;
  const held: http.ServerResponse[] = [];

  before(async () => {
    stall = http.createServer((_req, res) => void held.push(res));
    await new Promise<void>((resolve) => stall.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(stall.address() as AddressInfo).port}`;
    ensemble = await new ServiceProcess({
      folder: 'inference',
      name: 'inference-ensemble',
      env: { ROLE: 'ensemble', EFFICIENTNETB0_URL: url, MOBILENETV2_URL: url, MODEL_TIMEOUT_MS: '300', READY_TIMEOUT_MS: '200' },
      // Its members never answer, so it never becomes ready; liveness is enough to start testing.
      readyPath: '/healthy',
    }).start(30_000);
  });

  after(async () => {
    await ensemble?.stop();
    for (const res of held) res.destroy();
    await new Promise<void>((resolve) => stall.close(() => resolve()));
  });

  it('answers 504 problem+json after MODEL_TIMEOUT_MS, and /ready says why', async () => {
    const started = Date.now();
    const res = await request(ensemble.url + '/ensemble', octet(toBinary(imageTensor(41))));
    assert.equal(res.status, 504);
    assert.ok(res.headers.get('content-type')?.startsWith('application/problem+json'));
    assert.match(res.json.detail, /did not answer within 300 ms/);
    assert.ok(Date.now() - started < 5_000);
    const ready = await request(ensemble.url + '/ready');
    assert.equal(ready.status, 503);
    assert.match(ready.text, /within 200 ms/);
  });
});
