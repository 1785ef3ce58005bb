import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { GENERATOR_VERSION, MODEL_NAMES, generateModel, generateModels, readSidecar } from '../src/models/generate';
import { encodeModel } from '../src/models/onnx';
import { ProtoWriter } from '../src/models/protobuf';
import { MODEL_DIR, argmax, ensureModels, imageTensor } from './helpers';

describe('protobuf and ONNX encoding', () => {
  it('encodes varints like protobuf (negative int64 as ten bytes)', () => {
    assert.deepEqual([...new ProtoWriter().int(1, 300).finish()], [0x08, 0xac, 0x02]);
    assert.deepEqual([...new ProtoWriter().int(1, -1).finish()], [0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
    assert.deepEqual([...new ProtoWriter().string(2, 'hi').finish()], [0x12, 0x02, 0x68, 0x69]);
  });

  it('writes a model onnxruntime runs (attributes, initializers, symbolic dims)', async () => {
    const bytes = encodeModel({
      producerName: 'test',
      producerVersion: '1',
      graph: {
        name: 'tiny',
        nodes: [
          { opType: 'Add', inputs: ['x', 'b'], outputs: ['s'] },
          { opType: 'LeakyRelu', inputs: ['s'], outputs: ['l'], attributes: { alpha: { float: 0.5 } } },
          { opType: 'Softmax', inputs: ['l'], outputs: ['y'], attributes: { axis: -1 } },
        ],
        initializers: [{ name: 'b', dims: [3], data: Float32Array.of(0, 1, -1) }],
        inputs: [{ name: 'x', elemType: 1, shape: ['N', 3] }],
        outputs: [{ name: 'y', elemType: 1, shape: ['N', 3] }],
      },
    });
    const session = await InferenceSession.create(bytes);
    const out = await session.run({ x: new Tensor('float32', Float32Array.of(0, 0, 0), [1, 3]) });
    const expected = [Math.exp(0), Math.exp(1), Math.exp(-0.5)];
    const total = expected.reduce((a, b) => a + b);
    [...(out.y.data as Float32Array)].forEach((v, i) => assert.ok(Math.abs(v - expected[i] / total) < 1e-6));
  });
});

describe('generated graphs', () => {
  before(() => {
    ensureModels();
  });

  it('are written once and then kept (idempotent), with a sidecar', () => {
    const again = generateModels({ dir: MODEL_DIR });
    assert.deepEqual(
      again.map((r) => [r.model, r.skipped]),
      MODEL_NAMES.map((m) => [m, true]),
    );
    for (const r of again) {
      const sidecar = readSidecar(r.path);
      assert.equal(sidecar?.generatorVersion, GENERATOR_VERSION);
      assert.equal(sidecar?.seed, 42);
      assert.equal(sidecar?.bytes, fs.statSync(r.path).size);
    }
  });

  it('have realistic sizes: MobileNetV2 about 3.5M parameters, EfficientNet-B0 about 5.3M', () => {
    const mobile = readSidecar(`${MODEL_DIR}/mobilenetv2.onnx`)!;
    const efficient = readSidecar(`${MODEL_DIR}/efficientnetb0.onnx`)!;
    assert.ok(mobile.params > 3.3e6 && mobile.params < 3.6e6, `mobilenetv2 has ${mobile.params} parameters`);
    assert.ok(efficient.params > 5.1e6 && efficient.params < 5.4e6, `efficientnetb0 has ${efficient.params} parameters`);
  });

  it('are deterministic: regenerating gives the same bytes', () => {
    const { bytes } = generateModel('mobilenetv2', 42);
    assert.equal(createHash('sha256').update(bytes).digest('hex'), readSidecar(`${MODEL_DIR}/mobilenetv2.onnx`)!.sha256);
  });

  for (const model of MODEL_NAMES) {
    it(`${model} loads in onnxruntime with input [1,3,224,224] and output [1,1000], and depends on its input`, async () => {
      const session = await InferenceSession.create(`${MODEL_DIR}/${model}.onnx`, { intraOpNumThreads: 1, graphOptimizationLevel: 'all' });
      assert.deepEqual(session.inputNames, ['input']);
      assert.deepEqual(session.outputNames, ['probabilities']);
      const input = session.inputMetadata[0];
      const output = session.outputMetadata[0];
      assert.ok(input.isTensor && output.isTensor);
      assert.deepEqual(input.shape, [1, 3, 224, 224]);
      assert.equal(input.type, 'float32');
      assert.deepEqual(output.shape, [1, 1000]);

      const answers: number[][] = [];
      for (const seed of [1, 2, 3]) {
        const out = await session.run({ input: new Tensor('float32', imageTensor(seed), [1, 3, 224, 224]) });
        answers.push([...(out.probabilities.data as Float32Array)]);
      }
      for (const p of answers) {
        assert.equal(p.length, 1000);
        assert.ok(Math.abs(p.reduce((a, b) => a + b) - 1) < 1e-4);
        // Far from uniform (0.001), far from one-hot.
        assert.ok(p[argmax(p)] > 0.005 && p[argmax(p)] < 0.999, `top-1 probability ${p[argmax(p)]}`);
      }
      const top1 = answers.map((p) => p[argmax(p)]);
      assert.equal(new Set(top1).size, top1.length, `top-1 probabilities should differ across inputs: ${top1}`);
    });
  }
});
