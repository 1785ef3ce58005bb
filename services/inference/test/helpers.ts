import { calibrationImages } from '../src/models/calibration';
import { DEFAULT_MODEL_DIR, GeneratedModel, generateModels } from '../src/models/generate';
import { SeededRandom } from '../src/models/rng';

export const MODEL_DIR = DEFAULT_MODEL_DIR;

/** The generated graphs in the default folder; written on the first run, reused afterwards. */
export function ensureModels(): GeneratedModel[] {
  return generateModels({ dir: MODEL_DIR });
}

/** A deterministic image-like input (smooth colour waves and grain, roughly normalised). */
export function imageTensor(seed: number): Float32Array {
  return calibrationImages(new SeededRandom(seed, 'test-input'), 1, 224).data;
}

export function toBinary(data: Float32Array): Buffer {
  const out = Buffer.alloc(data.length * 4);
  for (let i = 0; i < data.length; i++) out.writeFloatLE(data[i], i * 4);
  return out;
}

export function toJson(data: Float32Array, shape: unknown = [1, 3, 224, 224]): string {
  return JSON.stringify({ shape, data: Array.from(data) });
}

export const octet = (body: Buffer, headers: Record<string, string> = {}): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/octet-stream', ...headers },
  body,
});

export const json = (body: string): RequestInit => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body });

export function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

export function argmax(values: number[]): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}
