import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ServiceProcess, freePort, request } from '@meridian/test-kit';
import { encodeModel } from '../src/models/onnx';
import { SeededRandom } from '../src/models/rng';
import { imageTensor, octet, sum, toBinary } from './helpers';

const SERVICE_DIR = path.resolve(__dirname, '../..');
const MAIN = path.join(SERVICE_DIR, 'dist/src/main.js');

/** Runs the service's entry point with only the given environment; for startups that must fail. */
async function runExpectingFailure(env: Record<string, string>) {
  const res = spawnSync(process.execPath, [MAIN], {
    cwd: SERVICE_DIR,
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: String(await freePort()), LOG_LEVEL: 'silent', ...env },
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { status: res.status, stderrLines: res.stderr.split('\n').filter((l) => l.trim() !== '') };
}

/**
 * A stand-in for a pretrained file: 1×3×224×224 in, `classes` raw logits out (no Softmax), with
 * a symbolic batch dimension as exporters write it.
 */
function logitsModel(classes: number): Buffer {
  const rng = new SeededRandom(7, 'logits-model');
  return encodeModel({
    producerName: 'test',
    producerVersion: '1',
    graph: {
      name: 'logits',
      nodes: [
        { opType: 'GlobalAveragePool', inputs: ['pixels'], outputs: ['pooled'] },
        { opType: 'Flatten', inputs: ['pooled'], outputs: ['flat'], attributes: { axis: 1 } },
        { opType: 'Gemm', inputs: ['flat', 'w', 'b'], outputs: ['logits'], attributes: { transB: 1 } },
      ],
      initializers: [
        { name: 'w', dims: [classes, 3], data: rng.normals(classes * 3, 3) },
        { name: 'b', dims: [classes], data: rng.normals(classes, 1) },
      ],
      inputs: [{ name: 'pixels', elemType: 1, shape: ['batch', 3, 224, 224] }],
      outputs: [{ name: 'logits', elemType: 1, shape: ['batch', classes] }],
    },
  });
}

describe('configuration and startup', { timeout: 60_000 }, () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'meridian-inference-'));

  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('exits non-zero with one line naming ROLE when ROLE is bad or missing', async () => {
    for (const env of [{ ROLE: 'resnet50' }, {}] as Record<string, string>[]) {
      const { status, stderrLines } = await runExpectingFailure(env);
      assert.notEqual(status, 0);
      assert.equal(stderrLines.length, 1, stderrLines.join('\n'));
      assert.match(stderrLines[0], /ROLE/);
      assert.match(stderrLines[0], /ensemble, efficientnetb0, mobilenetv2/);
    }
  });

  it('exits with one line telling to run `npm run models` when the generated model is missing', async () => {
    const { status, stderrLines } = await runExpectingFailure({ ROLE: 'mobilenetv2', MODEL_DIR: tmp });
    assert.equal(status, 1);
    assert.equal(stderrLines.length, 1, stderrLines.join('\n'));
    assert.match(stderrLines[0], /^inference-mobilenetv2: .*mobilenetv2\.onnx.*npm run models/);
  });

  it('exits with one line when MODEL_PATH is not a usable model', async () => {
    const wrongClasses = path.join(tmp, 'ten-classes.onnx');
    fs.writeFileSync(wrongClasses, logitsModel(10));
    const notOnnx = path.join(tmp, 'not-onnx.onnx');
    fs.writeFileSync(notOnnx, 'hello');
    for (const [file, why] of [
      [path.join(tmp, 'absent.onnx'), /MODEL_PATH .* is not a readable file/],
      [wrongClasses, /expected 1000 classes/],
      [notOnnx, /cannot load/],
    ] as const) {
      const { status, stderrLines } = await runExpectingFailure({ ROLE: 'efficientnetb0', MODEL_PATH: file });
      assert.equal(status, 1, file);
      assert.equal(stderrLines.length, 1, stderrLines.join('\n'));
      assert.match(stderrLines[0], why);
    }
  });

  describe('with MODEL_PATH pointing at a model that ends in logits', () => {
    let proc: ServiceProcess;
    before(async () => {
      const file = path.join(tmp, 'pretrained-logits.onnx');
      fs.writeFileSync(file, logitsModel(1000));
      proc = await new ServiceProcess({ folder: 'inference', name: 'inference-mobilenetv2', env: { ROLE: 'mobilenetv2', MODEL_PATH: file } }).start(30_000);
    });
    after(() => proc?.stop());

    it('applies softmax itself and names the file as the weights', async () => {
      const res = await request(proc.url + '/predict', octet(toBinary(imageTensor(31))));
      assert.equal(res.status, 200, res.text);
      assert.equal(res.json.untrained, false);
      assert.equal(res.json.weights, 'pretrained-logits.onnx');
      assert.ok(Math.abs(sum(res.json.probabilities) - 1) <= 1e-4, `sum ${sum(res.json.probabilities)}`);
      assert.ok(res.json.probabilities.every((p: number) => p >= 0 && p <= 1));
    });
  });
});
