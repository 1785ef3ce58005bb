/**
 * 6. `/metrics` scrape latency under load (service-a `GET /call-service-b`, SDK on), and the
 * event-loop delay meanwhile from the service's own `nodejs_eventloop_lag_p99_seconds`
 * (prom-client resets its event-loop histogram at each scrape, so each scrape reports the p99 of
 * the interval since the previous one). Scrapes come from the bench process every 100 ms; the load
 * generator is a separate process.
 *
 * "Under load" for the target is half the saturation rate, as for the per-hop latency: a busy
 * service, not an overloaded one. At saturation (32 connections always waiting) a scrape queues
 * behind them like any request; that figure is given for context.
 */
import type { Comparison, Ctx } from './context';
import { describeLoad, LoadResult, LoadSpec, runLoad } from './load';
import { metricSum, startPipeline } from './pipeline';
import { sleep } from './procs';
import { SATURATION_CONNECTIONS } from './rounds';
import { startChain } from './services';
import { fmt, latencySummary, median } from './stats';

const EVERY_MS = 100;

interface Scrapes {
  latencyMs: number[];
  loopP99Ms: number[];
}

async function scrapeUntil(url: string, done: () => boolean): Promise<Scrapes> {
  const out: Scrapes = { latencyMs: [], loopP99Ms: [] };
  while (!done()) {
    const t0 = performance.now();
    try {
      const text = await (await fetch(url, { signal: AbortSignal.timeout(5000) })).text();
      out.latencyMs.push(performance.now() - t0);
      out.loopP99Ms.push(metricSum(text, 'nodejs_eventloop_lag_p99_seconds') * 1000);
    } catch {
      out.latencyMs.push(5000);
    }
    await sleep(Math.max(0, EVERY_MS - (performance.now() - t0)));
  }
  // The first scrape's event-loop figure covers the time before the phase began.
  out.loopP99Ms.shift();
  return out;
}

/** Scrapes while the load runs (after its warm-up). */
async function scrapeDuring(ctx: Ctx, metricsUrl: string, spec: LoadSpec, pids: number[]): Promise<{ scrapes: Scrapes; load: LoadResult }> {
  let loading = true;
  const loadP = runLoad(spec, pids).finally(() => (loading = false));
  await sleep((spec.warmupSeconds ?? 0) * 1000 + 500);
  const scrapes = await scrapeUntil(metricsUrl, () => !loading);
  const load = await loadP;
  ctx.log(`  ${spec.overallRate ? `${spec.overallRate} req/s` : 'saturation'}: ${describeLoad(load)}; ${scrapes.latencyMs.length} scrapes`);
  return { scrapes, load };
}

export const scrape: Comparison = {
  name: 'scrape',
  title: '/metrics scrape latency and event-loop delay under load (service-a, SDK on)',
  items: [6],
  async run(ctx: Ctx) {
    const pipeline = await startPipeline();
    const chain = await startChain(['service-a'], { sdk: 'on', pipeline });
    try {
      const a = chain.get('service-a');
      const pids = [a.pid, chain.get('service-b').pid];
      const metricsUrl = `${a.url}/metrics`;
      const seconds = ctx.settings.quick ? 3 : 8;
      let stopIdle = false;
      const idleP = scrapeUntil(metricsUrl, () => stopIdle);
      await sleep(ctx.settings.quick ? 1500 : 3000);
      stopIdle = true;
      const idle = await idleP;
      const base = { url: `${a.url}/call-service-b`, seconds, warmupSeconds: ctx.settings.warmup };
      const sat = await scrapeDuring(ctx, metricsUrl, { ...base, connections: SATURATION_CONNECTIONS }, pids);
      const rate = Math.max(10, Math.round(sat.load.rps / 2));
      const half = await scrapeDuring(ctx, metricsUrl, { ...base, connections: 32, overallRate: rate }, pids);
      const lat = latencySummary(half.scrapes.latencyMs);
      const satLat = latencySummary(sat.scrapes.latencyMs);
      const idleLat = latencySummary(idle.latencyMs);
      ctx.figure({
        id: 'scrape.p99',
        item: 6,
        label: `/metrics scrape latency p99 under load (${rate} req/s, half saturation)`,
        value: lat.p99,
        unit: 'ms',
        target: { op: '<=', value: 50 },
        detail:
          `${lat.count} scrapes, p50 ${fmt(lat.p50)} ms; idle p99 ${fmt(idleLat.p99)} ms; at saturation (${fmt(sat.load.rps)} req/s) p99 ${fmt(satLat.p99)} ms; ` +
          `generator ${half.load.generatorCores.toFixed(2)} cores`,
      });
      const loop = half.scrapes.loopP99Ms;
      ctx.figure({
        id: 'scrape.eventloop-p99',
        item: 6,
        label: `Event-loop delay p99 under load (${rate} req/s; nodejs_eventloop_lag_p99_seconds, worst 100 ms interval)`,
        value: Math.max(...loop),
        unit: 'ms',
        // prom-client samples the loop with a 10 ms timer, and an idle loop reports about that.
        detail: `median interval ${fmt(median(loop))} ms; at saturation worst ${fmt(Math.max(...sat.scrapes.loopP99Ms))} ms; idle median ${fmt(median(idle.loopP99Ms))} ms (≈ the monitor's 10 ms resolution)`,
      });
      return { idle, saturation: { rps: sat.load.rps, scrapes: sat.scrapes }, halfSaturation: { rate, scrapes: half.scrapes, load: half.load } };
    } finally {
      await chain.stop();
      await pipeline.stop();
    }
  },
};
