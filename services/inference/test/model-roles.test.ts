import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ServiceProcess, parsePrometheus, request } from '@meridian/test-kit';
import { argmax, ensureModels, imageTensor, json, octet, sum, toBinary, toJson } from './helpers';

const ROLES = ['mobilenetv2', 'efficientnetb0'] as const;

function assertProblem(res: { status: number; headers: Headers; json: { type?: string } }, status: number, slug: string): void {
  assert.equal(res.status, status);
  assert.ok(res.headers.get('content-type')?.startsWith('application/problem+json'), `content-type ${res.headers.get('content-type')}`);
  assert.ok(res.json?.type?.endsWith(slug), `type ${res.json?.type}`);
}

describe('model roles', { timeout: 120_000 }, () => {
  const procs = new Map<string, ServiceProcess>();
  const a = imageTensor(11);
  const b = imageTensor(12);

  before(async () => {
    ensureModels();
    await Promise.all(
      ROLES.map(async (role) => {
        procs.set(role, await new ServiceProcess({ folder: 'inference', name: `inference-${role}`, env: { ROLE: role } }).start(30_000));
      }),
    );
  });

  after(async () => {
    await Promise.all([...procs.values()].map((p) => p.stop()));
  });

  for (const role of ROLES) {
    describe(role, () => {
      const url = () => procs.get(role)!.url;

      it('GET / describes the role and its generated model', async () => {
        const res = await request(url() + '/');
        assert.equal(res.status, 200);
        assert.equal(res.json.service, `inference-${role}`);
        assert.equal(res.json.role, role);
        assert.equal(res.json.status, 'ok');
        assert.equal(res.json.model.untrained, true);
        assert.equal(res.json.model.weights, 'generated (seed 42, untrained)');
        assert.deepEqual(res.json.model.input.shape, [1, 3, 224, 224]);
        assert.equal(res.json.links.predict, 'POST /predict');
      });

      it('predicts a distribution over 1000 classes, deterministically, differently for another input', async () => {
        const first = await request(url() + '/predict', octet(toBinary(a)));
        assert.equal(first.status, 200, first.text);
        const p: number[] = first.json.probabilities;
        assert.equal(p.length, 1000);
        assert.ok(Math.abs(sum(p) - 1) <= 1e-4, `sum ${sum(p)}`);
        assert.equal(first.json.model, role);
        assert.equal(first.json.untrained, true);
        assert.equal(first.json.weights, 'generated (seed 42, untrained)');
        assert.equal(typeof first.json.inferenceMs, 'number');
        const top5: { index: number; label: string; score: number }[] = first.json.top5;
        assert.equal(top5.length, 5);
        assert.equal(top5[0].index, argmax(p));
        for (let i = 1; i < 5; i++) assert.ok(top5[i - 1].score >= top5[i].score);
        for (const t of top5) {
          assert.equal(t.score, p[t.index]);
          assert.ok(typeof t.label === 'string' && t.label.length > 0);
        }

        const second = await request(url() + '/predict', octet(toBinary(a), { 'x-tensor-shape': '1,3,224,224' }));
        assert.deepEqual(second.json.probabilities, p);
        const other = await request(url() + '/predict', octet(toBinary(b)));
        assert.equal(other.status, 200);
        assert.notDeepEqual(other.json.probabilities, p);
      });

      it('gives the same answer for the JSON and the binary body', async () => {
        const bin = await request(url() + '/predict', octet(toBinary(b)));
        const js = await request(url() + '/predict', json(toJson(b)));
        assert.equal(js.status, 200, js.text);
        assert.deepEqual(js.json.probabilities, bin.json.probabilities);
        assert.deepEqual(js.json.top5, bin.json.top5);
      });

      it('answers 400 invalid-tensor to a wrong length, shape or value', async () => {
        const nan = Float32Array.from(a);
        nan[1234] = NaN;
        const inf = Float32Array.from(a);
        inf[0] = -Infinity;
        const bad = [
          octet(toBinary(a).subarray(0, 602108)),
          octet(toBinary(a), { 'x-tensor-shape': '1,3,112,112' }),
          octet(toBinary(nan)),
          octet(toBinary(inf)),
          json(toJson(a, [1, 224, 224, 3])),
          json(JSON.stringify({ data: [1, 2, 3] })),
          json(JSON.stringify({ data: Array.from(a).map((v, i) => (i === 7 ? 'x' : v)) })),
        ];
        for (const init of bad) {
          const res = await request(url() + '/predict', init);
          assertProblem(res, 400, 'invalid-tensor');
          assert.ok(!/at .*\.js/.test(res.text), 'no stack trace');
        }
      });

      it('answers 415 to another content type and 413 to a body over the limit', async () => {
        for (const type of ['text/plain', 'image/png']) {
          const res = await request(url() + '/predict', { method: 'POST', headers: { 'content-type': type }, body: 'abc' });
          assertProblem(res, 415, 'unsupported-media-type');
        }
        const tooLarge = await request(url() + '/predict', octet(Buffer.alloc(9 * 1024 * 1024)));
        assertProblem(tooLarge, 413, 'payload-too-large');
      });

      it('counts inferences in inference_duration_seconds{model}', async () => {
        const res = await request(url() + '/metrics');
        const count = parsePrometheus(res.text).find((s) => s.name === 'inference_duration_seconds_count' && s.labels.model === role);
        assert.ok(count && count.value >= 4, `count ${count?.value}`);
      });
    });
  }
});
