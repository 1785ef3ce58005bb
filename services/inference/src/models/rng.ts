/**
 * A seeded PRNG whose output is bit-for-bit the same on every platform: only 32-bit integer
 * arithmetic, and normals from a sum of uniforms instead of Math.log/Math.cos (whose last bits
 * may differ between engines).
 */
// The sum of four U(0,1) has variance 4/12; this scales it to 1.
const SQRT3 = Math.sqrt(3);

export class SeededRandom {
  private state: number;

  constructor(seed: number, stream = '') {
    // FNV-1a over the stream name, so each model gets its own sequence from one seed.
    let h = 0x811c9dc5 ^ (seed >>> 0);
    for (let i = 0; i < stream.length; i++) h = Math.imul(h ^ stream.charCodeAt(i), 0x01000193);
    this.state = h >>> 0;
  }

  /** mulberry32: a uniform 32-bit integer. */
  nextUint32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Uniform in [0, 1). */
  uniform(): number {
    return this.nextUint32() / 4294967296;
  }

  /**
   * Approximately standard normal: the sum of four uniforms, centred and scaled to unit variance.
   * Its tails stop at ±3.46, which suits weight initialisation (no outliers).
   */
  normal(): number {
    return (this.uniform() + this.uniform() + this.uniform() + this.uniform() - 2) * SQRT3;
  }

  /** n values, normal with the given standard deviation, as float32. */
  normals(n: number, std: number, mean = 0): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = mean + std * this.normal();
    return out;
  }
}
