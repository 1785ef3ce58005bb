import os from 'node:os';

/** Model input: one RGB image, 224x224, channels first (NCHW). */
export const INPUT_SIZE = 224;
export const TENSOR_SHAPE = [1, 3, INPUT_SIZE, INPUT_SIZE] as const;
export const TENSOR_LENGTH = 3 * INPUT_SIZE * INPUT_SIZE; // 150528
export const TENSOR_BYTES = TENSOR_LENGTH * Float32Array.BYTES_PER_ELEMENT; // 602112

/** ImageNet statistics the MobileNetV2 and EfficientNet-B0 graphs were trained with. */
export const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
export const IMAGENET_STD = [0.229, 0.224, 0.225] as const;

/**
 * Interleaved 8-bit RGB (HWC, as sharp's raw output) to a normalised float32 CHW tensor:
 * out[c][y][x] = (rgb[y][x][c] / 255 - mean[c]) / std[c].
 */
export function toChwTensor(rgb: Uint8Array, width: number, height: number): Float32Array {
  const plane = width * height;
  if (!Number.isInteger(plane) || plane <= 0 || rgb.length !== plane * 3) {
    throw new RangeError(`expected ${width}x${height}x3 = ${plane * 3} bytes of RGB, got ${rgb.length}`);
  }
  const out = new Float32Array(plane * 3);
  // One multiply-add per value: (v/255 - m)/s = v * (1/(255 s)) - m/s.
  const scale = IMAGENET_STD.map((s) => 1 / (255 * s));
  const shift = IMAGENET_MEAN.map((m, c) => m / IMAGENET_STD[c]);
  for (let c = 0; c < 3; c++) {
    const offset = c * plane;
    const k = scale[c];
    const b = shift[c];
    for (let i = 0, j = c; i < plane; i++, j += 3) out[offset + i] = rgb[j] * k - b;
  }
  return out;
}

/** The tensor as little-endian float32 bytes; a view without copying on little-endian hosts. */
export function tensorBytes(tensor: Float32Array, endianness: 'LE' | 'BE' = os.endianness()): Buffer {
  if (endianness === 'LE') return Buffer.from(tensor.buffer, tensor.byteOffset, tensor.byteLength);
  const out = Buffer.allocUnsafe(tensor.byteLength);
  for (let i = 0; i < tensor.length; i++) out.writeFloatLE(tensor[i], i * 4);
  return out;
}
