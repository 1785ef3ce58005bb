import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ensembleAnswerProblem } from '../src/ensemble-answer';
import { sniffImageFormat } from '../src/image-format';
import { IMAGENET_MEAN, IMAGENET_STD, TENSOR_BYTES, TENSOR_LENGTH, tensorBytes, toChwTensor } from '../src/tensor';
import { ensembleAnswer, pngBomb, TINY_GIF } from './helpers';

const close = (actual: number, expected: number, what: string) =>
  assert.ok(Math.abs(actual - expected) < 1e-5, `${what}: expected ${expected}, got ${actual}`);

describe('toChwTensor', () => {
  it('normalises with the ImageNet mean and std, channels first', () => {
    // 2x2 image, row-major RGB: (0,0)=(255,0,0) (1,0)=(0,255,0) (0,1)=(0,0,255) (1,1)=(128,64,32)
    const rgb = Uint8Array.from([255, 0, 0, 0, 255, 0, 0, 0, 255, 128, 64, 32]);
    const t = toChwTensor(rgb, 2, 2);
    assert.equal(t.length, 12);
    const expected = (v: number, c: number) => (v / 255 - IMAGENET_MEAN[c]) / IMAGENET_STD[c];
    const pixels = [
      [255, 0, 0],
      [0, 255, 0],
      [0, 0, 255],
      [128, 64, 32],
    ];
    for (let c = 0; c < 3; c++) {
      for (let i = 0; i < 4; i++) close(t[c * 4 + i], expected(pixels[i][c], c), `channel ${c} pixel ${i}`);
    }
    close(t[0], (1 - 0.485) / 0.229, 'R of a pure red pixel');
    close(t[4], -0.456 / 0.224, 'G plane starts with the G of pixel 0');
    close(t[11], (32 / 255 - 0.406) / 0.225, 'last value is B of the last pixel');
  });

  it('makes a 1x3x224x224 tensor of 150528 floats from a 224x224 image', () => {
    const rgb = new Uint8Array(224 * 224 * 3);
    for (let i = 0; i < 224 * 224; i++) rgb.set([i % 256, (i >> 8) % 256, 7], i * 3);
    const t = toChwTensor(rgb, 224, 224);
    assert.equal(t.length, TENSOR_LENGTH);
    assert.equal(TENSOR_LENGTH, 150528);
    const plane = 224 * 224;
    const i = 223 * 224 + 100; // pixel (x=100, y=223)
    close(t[i], ((i % 256) / 255 - 0.485) / 0.229, 'R');
    close(t[plane + i], (((i >> 8) % 256) / 255 - 0.456) / 0.224, 'G');
    close(t[2 * plane + i], (7 / 255 - 0.406) / 0.225, 'B');
  });

  it('refuses a buffer that does not match the size', () => {
    assert.throws(() => toChwTensor(new Uint8Array(11), 2, 2), RangeError);
    assert.throws(() => toChwTensor(new Uint8Array(0), 0, 0), RangeError);
  });
});

describe('tensorBytes', () => {
  it('is little-endian float32, 602112 bytes for the model input', () => {
    const t = new Float32Array(TENSOR_LENGTH);
    t[0] = -2.1179039478302;
    t[TENSOR_LENGTH - 1] = 2.64;
    for (const endianness of ['LE', 'BE'] as const) {
      const bytes = tensorBytes(t, endianness);
      assert.equal(bytes.length, TENSOR_BYTES);
      assert.equal(bytes.length, 602112);
      assert.equal(bytes.readFloatLE(0), t[0]);
      assert.equal(bytes.readFloatLE(TENSOR_BYTES - 4), t[TENSOR_LENGTH - 1]);
    }
  });
});

describe('sniffImageFormat', () => {
  it('recognises the supported formats by their bytes', () => {
    assert.deepEqual(sniffImageFormat(Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10])), { kind: 'supported', format: 'jpeg' });
    assert.deepEqual(sniffImageFormat(pngBomb(10, 10)), { kind: 'supported', format: 'png' });
    assert.deepEqual(sniffImageFormat(Buffer.from('RIFF\x24\x00\x00\x00WEBPVP8 ', 'latin1')), { kind: 'supported', format: 'webp' });
  });

  it('names known formats it refuses', () => {
    assert.deepEqual(sniffImageFormat(TINY_GIF), { kind: 'unsupported', format: 'gif' });
    assert.deepEqual(sniffImageFormat(Buffer.from([0x49, 0x49, 0x2a, 0x00, 8, 0, 0, 0])), { kind: 'unsupported', format: 'tiff' });
    assert.deepEqual(sniffImageFormat(Buffer.from('\uFEFF  <?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>')), { kind: 'unsupported', format: 'svg' });
    assert.deepEqual(sniffImageFormat(Buffer.from('\x00\x00\x00\x1cftypavif', 'latin1')), { kind: 'unsupported', format: 'avif' });
  });

  it('does not recognise other bytes', () => {
    assert.deepEqual(sniffImageFormat(Buffer.from('hello world')), { kind: 'unknown' });
    assert.deepEqual(sniffImageFormat(Buffer.alloc(0)), { kind: 'unknown' });
    assert.deepEqual(sniffImageFormat(Buffer.from([0xff, 0xd8])), { kind: 'unknown' });
  });
});

describe('ensembleAnswerProblem', () => {
  it('accepts the ensemble answer', () => {
    assert.equal(ensembleAnswerProblem(ensembleAnswer()), undefined);
  });

  it('names what is wrong with a malformed answer', () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ model: 'mobilenetv2' }, /model/],
      [{ members: 'a' }, /members/],
      [{ untrained: 'yes' }, /untrained/],
      [{ probabilities: [0.5, 0.5] }, /probabilities/],
      [{ probabilities: Array.from({ length: 1000 }, () => 'x') }, /probabilities/],
      [{ top5: [] }, /top5/],
      [{ top5: [{ index: 1000, label: 'x', score: 1 }] }, /top5/],
      [{ top5: [{ index: 1, label: 3, score: 1 }] }, /top5/],
      [{ timings: null }, /timings/],
    ];
    for (const [patch, pattern] of cases) assert.match(ensembleAnswerProblem({ ...ensembleAnswer(), ...patch }) ?? '', pattern, JSON.stringify(patch).slice(0, 60));
    assert.match(ensembleAnswerProblem('<html>') ?? '', /object/);
    assert.match(ensembleAnswerProblem(null) ?? '', /object/);
  });
});
