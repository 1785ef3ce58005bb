import os from 'node:os';
import { mediaType, ProblemException, type SchemaObject } from '@meridian/service-kit';

/** The one input shape every model role accepts: a batch of one 224×224 RGB image, NCHW. */
export const TENSOR_SHAPE = [1, 3, 224, 224] as const;
export const TENSOR_ELEMENTS = 1 * 3 * 224 * 224;
export const TENSOR_BYTES = TENSOR_ELEMENTS * 4;
export const SHAPE_TEXT = TENSOR_SHAPE.join(',');
export const OCTET_STREAM = 'application/octet-stream';
export const JSON_TYPE = 'application/json';

/** The request body of /predict and /ensemble, per media type, for the OpenAPI document. */
export const TENSOR_REQUEST_CONTENT: Record<string, SchemaObject> = {
  [OCTET_STREAM]: { type: 'string', format: 'binary', description: `${TENSOR_BYTES} bytes: little-endian float32, NCHW ${SHAPE_TEXT}` },
  [JSON_TYPE]: {
    type: 'object',
    required: ['data'],
    properties: {
      shape: { type: 'array', items: { type: 'integer' }, minItems: 4, maxItems: 4, example: [...TENSOR_SHAPE] },
      data: { type: 'array', items: { type: 'number' }, description: `${TENSOR_ELEMENTS} numbers, NCHW` },
    },
  },
};

export interface InputTensor {
  data: Float32Array;
  /** The tensor as little-endian float32 bytes, as forwarded to the model servers. */
  bytes(): Buffer;
}

function invalid(detail: string): ProblemException {
  return new ProblemException(400, detail, 'invalid-tensor');
}

const LITTLE_ENDIAN = os.endianness() === 'LE';

function fromBytes(buf: Buffer): Float32Array {
  if (LITTLE_ENDIAN) {
    // A copy: the request buffer may not be 4-byte aligned, which Float32Array requires.
    return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length));
  }
  const out = new Float32Array(buf.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = buf.readFloatLE(i * 4);
  return out;
}

function toBytes(data: Float32Array): Buffer {
  if (LITTLE_ENDIAN) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const out = Buffer.alloc(data.length * 4);
  for (let i = 0; i < data.length; i++) out.writeFloatLE(data[i], i * 4);
  return out;
}

function checkFinite(data: Float32Array): void {
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) throw invalid(`element ${i} is ${data[i]}; every element must be a finite number`);
  }
}

function checkShape(shape: unknown, where: string): void {
  const ok = Array.isArray(shape) && shape.length === TENSOR_SHAPE.length && shape.every((d, i) => d === TENSOR_SHAPE[i]);
  if (!ok) throw invalid(`${where} must be [${SHAPE_TEXT}] (got ${JSON.stringify(shape)})`);
}

/**
 * Reads the request body of /predict and /ensemble:
 * - application/octet-stream: 150,528 little-endian float32 (602,112 bytes), NCHW; optional
 *   header x-tensor-shape: 1,3,224,224;
 * - application/json: {"shape": [1,3,224,224], "data": [150,528 numbers]} (shape optional).
 * Anything else is a 415; a malformed tensor is a 400 invalid-tensor problem.
 */
export function parseTensorRequest(body: unknown, contentType: string | undefined, shapeHeader: string | undefined): InputTensor {
  const type = mediaType(contentType);
  if (type === OCTET_STREAM) {
    if (shapeHeader !== undefined) {
      const dims = shapeHeader.split(',').map((d) => (/^\s*\d+\s*$/.test(d) ? Number(d) : d.trim()));
      checkShape(dims, 'header x-tensor-shape');
    }
    if (!Buffer.isBuffer(body)) throw invalid(`the body must be ${TENSOR_BYTES} bytes of little-endian float32`);
    if (body.length !== TENSOR_BYTES) {
      throw invalid(`the body must be ${TENSOR_BYTES} bytes (${TENSOR_ELEMENTS} little-endian float32 for shape ${SHAPE_TEXT}), got ${body.length}`);
    }
    const data = fromBytes(body);
    checkFinite(data);
    return { data, bytes: () => body };
  }
  if (type === JSON_TYPE) {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw invalid(`the body must be a JSON object {"shape": [${SHAPE_TEXT}], "data": [${TENSOR_ELEMENTS} numbers]}`);
    }
    const { shape, data } = body as { shape?: unknown; data?: unknown };
    if (shape !== undefined) checkShape(shape, 'shape');
    if (!Array.isArray(data)) throw invalid(`data must be a flat array of ${TENSOR_ELEMENTS} numbers`);
    if (data.length !== TENSOR_ELEMENTS) throw invalid(`data must have ${TENSOR_ELEMENTS} elements for shape ${SHAPE_TEXT}, got ${data.length}`);
    const out = new Float32Array(TENSOR_ELEMENTS);
    for (let i = 0; i < data.length; i++) {
      const v: unknown = data[i];
      if (typeof v !== 'number') throw invalid(`element ${i} is not a number (${JSON.stringify(v) ?? typeof v})`);
      out[i] = v;
      if (!Number.isFinite(out[i])) throw invalid(`element ${i} (${v}) is outside the float32 range`);
    }
    return { data: out, bytes: () => toBytes(out) };
  }
  throw new ProblemException(
    415,
    `Content-Type must be ${OCTET_STREAM} (${TENSOR_BYTES} bytes of float32) or ${JSON_TYPE} (got ${contentType ? JSON.stringify(contentType) : 'none'})`,
  );
}

/** Numerically stable softmax, in float64. */
export function softmax(logits: ArrayLike<number>): number[] {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]);
  const out = new Array<number>(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) {
    out[i] = Math.exp(logits[i] - max);
    sum += out[i];
  }
  for (let i = 0; i < out.length; i++) out[i] /= sum;
  return out;
}

/** True when the values already are a probability distribution (a model that ends in Softmax). */
export function isDistribution(values: ArrayLike<number>, tolerance = 1e-3): boolean {
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v) || v < -1e-6 || v > 1 + 1e-6) return false;
    sum += v;
  }
  return Math.abs(sum - 1) <= tolerance;
}

export interface TopEntry {
  index: number;
  label: string;
  score: number;
}

/** The k best classes, best first (ties: lower index first). */
export function topK(probabilities: readonly number[], labels: readonly string[], k = 5): TopEntry[] {
  const best: number[] = [];
  for (let i = 0; i < probabilities.length; i++) {
    if (best.length < k || probabilities[i] > probabilities[best[best.length - 1]]) {
      best.push(i);
      best.sort((a, b) => probabilities[b] - probabilities[a] || a - b);
      if (best.length > k) best.pop();
    }
  }
  return best.map((index) => ({ index, label: labels[index] ?? `class ${index}`, score: probabilities[index] }));
}
