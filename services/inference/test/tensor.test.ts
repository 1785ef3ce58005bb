import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ProblemException } from '@meridian/service-kit';
import { checkSignature } from '../src/signature';
import { isDistribution, parseTensorRequest, softmax, TENSOR_BYTES, TENSOR_ELEMENTS, topK } from '../src/tensor';
import { toBinary } from './helpers';

function problemOf(fn: () => unknown): { status: number; type: string; detail: string } {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ProblemException, `expected a ProblemException, got ${String(err)}`);
    const body = err.getResponse() as { type: string; detail: string };
    return { status: err.getStatus(), type: body.type, detail: body.detail };
  }
  assert.fail('expected a problem');
}

describe('tensor request parsing', () => {
  const data = new Float32Array(TENSOR_ELEMENTS).map((_, i) => Math.sin(i));

  it('reads little-endian float32 bytes, with or without the shape header', () => {
    const bin = toBinary(data);
    assert.deepEqual(parseTensorRequest(bin, 'application/octet-stream', undefined).data, data);
    assert.deepEqual(parseTensorRequest(bin, 'application/octet-stream', '1, 3, 224, 224').data, data);
    // An unaligned view of the same bytes (as a body can be) reads the same.
    const unaligned = Buffer.concat([Buffer.alloc(1), bin]).subarray(1);
    assert.deepEqual(parseTensorRequest(unaligned, 'application/octet-stream', undefined).data, data);
  });

  it('reads JSON with or without shape, and agrees with the binary form', () => {
    const body = { shape: [1, 3, 224, 224], data: Array.from(data) };
    assert.deepEqual(parseTensorRequest(body, 'application/json; charset=utf-8', undefined).data, data);
    assert.deepEqual(parseTensorRequest({ data: body.data }, 'application/json', undefined).bytes(), toBinary(data));
  });

  it('rejects malformed tensors with invalid-tensor problems', () => {
    const cases: [unknown, string, string | undefined, RegExp][] = [
      [Buffer.alloc(TENSOR_BYTES - 4), 'application/octet-stream', undefined, /602112 bytes.*got 602108/],
      [toBinary(data), 'application/octet-stream', '1,3,112,112', /x-tensor-shape/],
      [toBinary(data), 'application/octet-stream', 'one', /x-tensor-shape/],
      [toBinary(new Float32Array(TENSOR_ELEMENTS).fill(NaN)), 'application/octet-stream', undefined, /element 0 is NaN/],
      [toBinary(new Float32Array(TENSOR_ELEMENTS).fill(Infinity)), 'application/octet-stream', undefined, /element 0 is Infinity/],
      [{ shape: [1, 3, 224, 223], data: [] }, 'application/json', undefined, /shape must be/],
      [{ data: [1, 2, 3] }, 'application/json', undefined, /150528 elements.*got 3/],
      [{ data: 'x' }, 'application/json', undefined, /flat array/],
      [{ data: [...Array.from(data).slice(1), 'x'] }, 'application/json', undefined, /element 150527 is not a number/],
      [{ data: [...Array.from(data).slice(1), null] }, 'application/json', undefined, /element 150527 is not a number/],
      [{ data: [...Array.from(data).slice(1), 1e39] }, 'application/json', undefined, /outside the float32 range/],
      [[1, 2], 'application/json', undefined, /JSON object/],
    ];
    for (const [body, type, shape, detail] of cases) {
      const p = problemOf(() => parseTensorRequest(body, type, shape));
      assert.equal(p.status, 400);
      assert.equal(p.type, 'urn:meridian:problem:invalid-tensor');
      assert.match(p.detail, detail);
    }
  });

  it('answers 415 to other content types', () => {
    assert.equal(problemOf(() => parseTensorRequest('abc', 'text/plain', undefined)).status, 415);
    assert.equal(problemOf(() => parseTensorRequest(undefined, undefined, undefined)).status, 415);
  });
});

describe('probabilities', () => {
  it('softmax is stable and sums to 1; distributions are recognised', () => {
    const p = softmax([1000, 1001, 999]);
    assert.ok(Math.abs(p.reduce((a, b) => a + b) - 1) < 1e-12);
    assert.ok(p[1] > p[0] && p[0] > p[2]);
    assert.equal(isDistribution(p), true);
    assert.equal(isDistribution([2, -1, 0]), false);
    assert.equal(isDistribution([0.5, 0.4]), false);
  });

  it('topK is sorted, best first, with labels', () => {
    const top = topK([0.1, 0.5, 0.05, 0.3, 0.05], ['a', 'b', 'c', 'd', 'e'], 3);
    assert.deepEqual(top, [
      { index: 1, label: 'b', score: 0.5 },
      { index: 3, label: 'd', score: 0.3 },
      { index: 0, label: 'a', score: 0.1 },
    ]);
  });
});

describe('model signature check', () => {
  const tensor = (name: string, shape: (number | string)[]) => ({ name, isTensor: true as const, type: 'float32' as const, shape });
  it('accepts fixed and symbolic compatible shapes, rejects others', () => {
    assert.equal(checkSignature({ inputMetadata: [tensor('input', [1, 3, 224, 224])], outputMetadata: [tensor('p', [1, 1000])] }), undefined);
    assert.equal(checkSignature({ inputMetadata: [tensor('x', ['N', 3, 224, 224])], outputMetadata: [tensor('y', ['N', 1000])] }), undefined);
    assert.match(checkSignature({ inputMetadata: [tensor('x', [1, 3, 299, 299])], outputMetadata: [tensor('y', [1, 1000])] }) ?? '', /expected \[1,3,224,224\]/);
    assert.match(checkSignature({ inputMetadata: [tensor('x', [1, 3, 224, 224])], outputMetadata: [tensor('y', [1, 10])] }) ?? '', /1000 classes/);
  });
});
