import { SeededRandom } from './rng';

/**
 * A small float32 forward pass over a batch of synthetic images, used while building a graph to
 * choose each layer's scale from the activations it really receives (what BatchNorm statistics
 * do in a trained network). Tensors are NCHW in one Float32Array.
 */
export interface Activations {
  data: Float32Array;
  n: number;
  c: number;
  h: number;
  w: number;
}

export function convForward(
  x: Activations,
  weight: Float32Array,
  cout: number,
  kernel: number,
  stride: number,
  pad: number,
  groups: number,
): Activations {
  const cinPerGroup = x.c / groups;
  const coutPerGroup = cout / groups;
  const oh = Math.floor((x.h + 2 * pad - kernel) / stride) + 1;
  const ow = Math.floor((x.w + 2 * pad - kernel) / stride) + 1;
  const out = new Float32Array(x.n * cout * oh * ow);
  const src = x.data;
  const inPlane = x.h * x.w;
  const outPlane = oh * ow;
  if (kernel === 1 && stride === 1 && groups === 1) {
    pointwise(src, weight, out, x.n, x.c, cout, inPlane);
    return { data: out, n: x.n, c: cout, h: oh, w: ow };
  }
  for (let n = 0; n < x.n; n++) {
    for (let co = 0; co < cout; co++) {
      const g = Math.floor(co / coutPerGroup);
      const oBase = (n * cout + co) * outPlane;
      for (let ci = 0; ci < cinPerGroup; ci++) {
        const iBase = (n * x.c + g * cinPerGroup + ci) * inPlane;
        const wBase = (co * cinPerGroup + ci) * kernel * kernel;
        for (let ky = 0; ky < kernel; ky++) {
          for (let kx = 0; kx < kernel; kx++) {
            const wv = weight[wBase + ky * kernel + kx];
            // Output columns whose input column ox·stride − pad + kx lies inside the image.
            const oxFirst = Math.max(0, Math.ceil((pad - kx) / stride));
            const oxEnd = Math.min(ow, Math.floor((x.w - 1 + pad - kx) / stride) + 1);
            for (let oy = 0; oy < oh; oy++) {
              const iy = oy * stride - pad + ky;
              if (iy < 0 || iy >= x.h) continue;
              const row = iBase + iy * x.w - pad + kx;
              const orow = oBase + oy * ow;
              for (let ox = oxFirst; ox < oxEnd; ox++) out[orow + ox] += wv * src[row + ox * stride];
            }
          }
        }
      }
    }
  }
  return { data: out, n: x.n, c: cout, h: oh, w: ow };
}

/** 1×1 convolution, four output channels per pass so each input value is read once per four. */
function pointwise(src: Float32Array, weight: Float32Array, out: Float32Array, batch: number, cin: number, cout: number, plane: number): void {
  for (let n = 0; n < batch; n++) {
    const inBase = n * cin * plane;
    let co = 0;
    for (; co + 4 <= cout; co += 4) {
      const o0 = (n * cout + co) * plane;
      const o1 = o0 + plane;
      const o2 = o1 + plane;
      const o3 = o2 + plane;
      for (let ci = 0; ci < cin; ci++) {
        const w0 = weight[co * cin + ci];
        const w1 = weight[(co + 1) * cin + ci];
        const w2 = weight[(co + 2) * cin + ci];
        const w3 = weight[(co + 3) * cin + ci];
        const i0 = inBase + ci * plane;
        for (let i = 0; i < plane; i++) {
          const v = src[i0 + i];
          out[o0 + i] += w0 * v;
          out[o1 + i] += w1 * v;
          out[o2 + i] += w2 * v;
          out[o3 + i] += w3 * v;
        }
      }
    }
    for (; co < cout; co++) {
      const o0 = (n * cout + co) * plane;
      for (let ci = 0; ci < cin; ci++) {
        const w0 = weight[co * cin + ci];
        const i0 = inBase + ci * plane;
        for (let i = 0; i < plane; i++) out[o0 + i] += w0 * src[i0 + i];
      }
    }
  }
}

export function mapActivations(x: Activations, f: (v: number) => number): Activations {
  const out = new Float32Array(x.data.length);
  for (let i = 0; i < out.length; i++) out[i] = f(x.data[i]);
  return { ...x, data: out };
}

export function addActivations(a: Activations, b: Activations): Activations {
  const out = new Float32Array(a.data.length);
  for (let i = 0; i < out.length; i++) out[i] = a.data[i] + b.data[i];
  return { ...a, data: out };
}

export function globalAveragePool(x: Activations): Activations {
  const plane = x.h * x.w;
  const out = new Float32Array(x.n * x.c);
  for (let i = 0; i < out.length; i++) {
    let s = 0;
    for (let j = 0; j < plane; j++) s += x.data[i * plane + j];
    out[i] = s / plane;
  }
  return { data: out, n: x.n, c: x.c, h: 1, w: 1 };
}

/** x[n, c, :, :] * s[n, c] */
export function scaleChannels(x: Activations, s: Activations): Activations {
  const plane = x.h * x.w;
  const out = new Float32Array(x.data.length);
  for (let i = 0; i < x.n * x.c; i++) for (let j = 0; j < plane; j++) out[i * plane + j] = x.data[i * plane + j] * s.data[i];
  return { ...x, data: out };
}

export function meanStd(data: Float32Array): { mean: number; std: number } {
  let s1 = 0;
  let s2 = 0;
  for (const v of data) {
    s1 += v;
    s2 += v * v;
  }
  const mean = s1 / data.length;
  return { mean, std: Math.sqrt(Math.max(s2 / data.length - mean * mean, 0)) };
}

export const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));
export const silu = (v: number): number => v / (1 + Math.exp(-v));
export const relu6 = (v: number): number => Math.min(Math.max(v, 0), 6);

/**
 * Synthetic normalised "images": a few smooth colour waves per channel plus grain, about zero
 * mean and unit variance like ImageNet-normalised photographs.
 */
export function calibrationImages(rng: SeededRandom, count: number, size: number): Activations {
  const data = new Float32Array(count * 3 * size * size);
  for (let n = 0; n < count; n++) {
    const waves = Array.from({ length: 5 }, () => ({
      fx: (rng.uniform() - 0.5) * 0.6,
      fy: (rng.uniform() - 0.5) * 0.6,
      phase: rng.uniform() * 2 * Math.PI,
      colour: [rng.normal(), rng.normal(), rng.normal()],
    }));
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < size; y++) {
        for (let x = 0; x < size; x++) {
          let v = 0;
          // Frequencies are per 224 pixels, so a smaller calibration image sees the same content.
          const sx = (x * 224) / size;
          const sy = (y * 224) / size;
          for (const w of waves) v += w.colour[c] * Math.sin(w.fx * sx + w.fy * sy + w.phase);
          data[((n * 3 + c) * size + y) * size + x] = v * 0.6 + 0.5 * rng.normal();
        }
      }
    }
  }
  return { data, n: count, c: 3, h: size, w: size };
}
