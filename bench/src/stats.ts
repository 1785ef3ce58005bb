/**
 * Pure statistics for the benchmarks: no I/O, so bench/test/stats.test.ts can check them alone.
 *
 * Every comparison runs its sides alternately within a round, so a ratio taken inside one round
 * compares two runs made seconds apart under the same machine load; the median of those per-round
 * ratios is what the benchmarks report, which cancels most of the drift of a shared machine.
 */

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/**
 * Nearest-rank percentile (p in 0..100): the smallest sample with at least p % of the samples at or
 * below it. Always an observed value, which is what a latency percentile should be.
 */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  if (p < 0 || p > 100) throw new RangeError(`percentile ${p} is outside 0..100`);
  const s = [...xs].sort((a, b) => a - b);
  if (p === 0) return s[0];
  return s[Math.min(s.length, Math.ceil((p / 100) * s.length)) - 1];
}

export interface Latencies {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

/** Percentiles of latency samples (one sort for all of them). */
export function latencySummary(xs: readonly number[]): Latencies {
  if (xs.length === 0) return { count: 0, p50: NaN, p90: NaN, p99: NaN, max: NaN, mean: NaN };
  const s = [...xs].sort((a, b) => a - b);
  const at = (p: number) => s[Math.min(s.length, Math.ceil((p / 100) * s.length)) - 1];
  return { count: s.length, p50: at(50), p90: at(90), p99: at(99), max: s[s.length - 1], mean: s.reduce((a, b) => a + b, 0) / s.length };
}

function samePairs(a: readonly number[], b: readonly number[]): void {
  if (a.length !== b.length) throw new Error(`paired samples differ in length: ${a.length} and ${b.length}`);
}

/** a[i] / b[i] for each round i. */
export function pairedRatios(a: readonly number[], b: readonly number[]): number[] {
  samePairs(a, b);
  return a.map((x, i) => x / b[i]);
}

/** a[i] - b[i] for each round i. */
export function pairedDiffs(a: readonly number[], b: readonly number[]): number[] {
  samePairs(a, b);
  return a.map((x, i) => x - b[i]);
}

export interface Spread {
  median: number;
  min: number;
  max: number;
  n: number;
}

export function spread(xs: readonly number[]): Spread {
  return { median: median(xs), min: xs.length ? Math.min(...xs) : NaN, max: xs.length ? Math.max(...xs) : NaN, n: xs.length };
}

/** Median of the per-round ratios a[i] / b[i], with their range. */
export function medianPairedRatio(a: readonly number[], b: readonly number[]): Spread {
  return spread(pairedRatios(a, b));
}

export interface Target {
  op: '>=' | '<=';
  value: number;
}

/** Whether a figure meets its target; undefined when there is no figure (NaN: not measured). */
export function meets(value: number, target: Target): boolean | undefined {
  if (!Number.isFinite(value)) return undefined;
  return target.op === '>=' ? value >= target.value : value <= target.value;
}

export function describeTarget(t: Target, unit = ''): string {
  return `${t.op === '>=' ? '≥' : '≤'} ${t.value}${unit ? ` ${unit}` : ''}`;
}

/** Rounds for display: 3 significant digits for small figures, whole numbers for large ones. */
export function fmt(x: number, digits = 3): string {
  if (!Number.isFinite(x)) return 'n/a';
  const a = Math.abs(x);
  if (a >= 1000) return Math.round(x).toLocaleString('en-US');
  if (a === 0) return '0';
  return Number(x.toPrecision(digits)).toString();
}
