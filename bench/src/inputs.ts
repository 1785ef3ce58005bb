/** Request bodies for the edge and inference benchmarks. */
import { createRequire } from 'node:module';
import path from 'node:path';
import { ROOT } from './paths';

interface SharpLike {
  (input: Buffer, opts: { raw: { width: number; height: number; channels: 3 } }): { jpeg(o: { quality: number }): { toBuffer(): Promise<Buffer> } };
}

/**
 * A 640×480 JPEG photo stand-in: smooth gradients with noise, so it neither compresses to nothing
 * nor decodes unrealistically fast. Encoded by the edge's own sharp (the library that decodes it).
 */
export async function benchJpeg(width = 640, height = 480): Promise<Buffer> {
  const sharp = createRequire(path.join(ROOT, 'services/preprocessing-edge/package.json'))('sharp') as SharpLike;
  const px = Buffer.alloc(width * height * 3);
  let seed = 42;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      px[i] = Math.min(255, (x / width) * 200 + rnd() * 55);
      px[i + 1] = Math.min(255, (y / height) * 200 + rnd() * 55);
      px[i + 2] = Math.min(255, 128 + 100 * Math.sin((x + y) / 40) + rnd() * 27);
    }
  }
  return sharp(px, { raw: { width, height, channels: 3 } }).jpeg({ quality: 85 }).toBuffer();
}

/** The models' input: 1×3×224×224 little-endian float32, values in the normalised range. */
export function benchTensor(): Buffer {
  const data = new Float32Array(3 * 224 * 224);
  for (let i = 0; i < data.length; i++) data[i] = Math.sin(i / 97) * 2;
  return Buffer.from(data.buffer);
}

export const TENSOR_HEADERS = { 'content-type': 'application/octet-stream', 'x-tensor-shape': '1,3,224,224', accept: 'application/json' };
