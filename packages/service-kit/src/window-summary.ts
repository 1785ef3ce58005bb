import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';
import { register, type Registry } from 'prom-client';

export interface WindowSummaryOptions<L extends string> {
  name: string;
  help: string;
  labelNames: readonly L[];
  /** The quantiles exposed, e.g. 0.5 and 0.99. */
  percentiles: number[];
  /** The quantiles cover about the last maxAgeSeconds. */
  maxAgeSeconds: number;
  /** The window moves in maxAgeSeconds / ageBuckets steps. */
  ageBuckets: number;
  registers?: Registry[];
}

/** Values are recorded in microseconds, from 1 µs up to 100 s, to 2 significant figures (1 %). */
const LOWEST_US = 1;
const HIGHEST_US = 100_000_000;
const FIGURES = 2;

interface Series {
  labels: Record<string, string>;
  /** One histogram per age bucket; `current` is being filled. */
  buckets: RecordableHistogram[];
  sum: number;
  count: number;
}

/**
 * A Prometheus summary of durations (in seconds) whose quantiles come from Node's native HDR
 * histograms (perf_hooks), one per age bucket. It exposes what prom-client's Summary exposes
 * (quantiles over a sliding window, a cumulative _sum and _count), but an observation is one
 * native call instead of a t-digest insert: with prom-client's Summary the service-kit's summary
 * alone cost about a sixth of a request's CPU at saturation.
 */
export class WindowSummary<L extends string> {
  readonly name: string;
  readonly help: string;
  readonly type = 'summary';
  readonly aggregator = 'sum';
  private readonly labelNames: readonly L[];
  private readonly percentiles: number[];
  private readonly ageBuckets: number;
  private readonly series = new Map<string, Series>();
  private current = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(options: WindowSummaryOptions<L>) {
    this.name = options.name;
    this.help = options.help;
    this.labelNames = options.labelNames;
    this.percentiles = options.percentiles;
    this.ageBuckets = Math.max(1, options.ageBuckets);
    this.timer = setInterval(() => this.rotate(), (options.maxAgeSeconds * 1000) / this.ageBuckets);
    this.timer.unref();
    for (const r of options.registers ?? [register]) r.registerMetric(this as never);
  }

  observe(labels: Record<L, string>, seconds: number): void {
    this.child(labels).observe(seconds);
  }

  /** The series of one label set, to observe into without looking it up on every observation (until reset()). */
  child(labels: Record<L, string>): { observe(seconds: number): void } {
    let key = '';
    for (const n of this.labelNames) key += `${labels[n]}\u0000`;
    let s = this.series.get(key);
    if (!s) {
      const own: Record<string, string> = {};
      for (const n of this.labelNames) own[n] = labels[n];
      s = {
        labels: own,
        buckets: Array.from({ length: this.ageBuckets }, () => createHistogram({ lowest: LOWEST_US, highest: HIGHEST_US, figures: FIGURES })),
        sum: 0,
        count: 0,
      };
      this.series.set(key, s);
    }
    const series = s;
    return {
      observe: (seconds) => {
        const us = Math.min(HIGHEST_US, Math.max(LOWEST_US, Math.round(seconds * 1e6)));
        series.buckets[this.current].record(us);
        series.sum += seconds;
        series.count++;
      },
    };
  }

  /** Moves the window one age bucket on: the oldest bucket is emptied and filled from now. */
  rotate(): void {
    this.current = (this.current + 1) % this.ageBuckets;
    for (const s of this.series.values()) s.buckets[this.current].reset();
  }

  async get(): Promise<{ name: string; help: string; type: 'summary'; aggregator: 'sum'; values: { labels: Record<string, string | number>; value: number; metricName?: string }[] }> {
    const values: { labels: Record<string, string | number>; value: number; metricName?: string }[] = [];
    for (const s of this.series.values()) {
      const window = createHistogram({ lowest: LOWEST_US, highest: HIGHEST_US, figures: FIGURES });
      for (const b of s.buckets) window.add(b);
      for (const p of this.percentiles) {
        values.push({ labels: { quantile: p, ...s.labels }, value: window.count > 0 ? window.percentile(p * 100) / 1e6 : 0 });
      }
      values.push({ metricName: `${this.name}_sum`, labels: s.labels, value: s.sum });
      values.push({ metricName: `${this.name}_count`, labels: s.labels, value: s.count });
    }
    return { name: this.name, help: this.help, type: 'summary', aggregator: 'sum', values };
  }

  reset(): void {
    this.series.clear();
  }
}
