/**
 * 3. Added latency per hop: p50 and p99 of service-a `/call-service-b` minus service-b `/data`
 * called directly, both at the same fixed rate, a quarter of /call-service-b's saturation rate, with the
 * SDK on as deployed (100 % sampling, real collector).
 */
import type { Comparison, Ctx } from './context';
import { describeLoad, LoadResult, runLoad } from './load';
import { startPipeline } from './pipeline';
import { alternate, saturate } from './rounds';
import { startChain } from './services';
import { fmt, median, pairedDiffs, spread } from './stats';

const SIDES = ['via service-a', 'service-b direct'] as const;

/** At most this many sockets: evenly spaced requests need one or two; the rest absorb stalls. */
const FIXED_RATE_CONNECTIONS = 32;

export const hop: Comparison = {
  name: 'hop',
  title: 'Added latency per hop: /call-service-b minus service-b /data, at a quarter of saturation (SDK on)',
  items: [3],
  async run(ctx: Ctx) {
    const pipeline = await startPipeline();
    const chain = await startChain(['service-a'], { sdk: 'on', pipeline });
    try {
      const a = chain.get('service-a');
      const b = chain.get('service-b');
      const pids = [a.pid, b.pid];
      const sat = await saturate(ctx, { url: `${a.url}/call-service-b` }, pids, 'saturation of /call-service-b');
      const rate = Math.max(10, Math.round(sat.rps / 4));
      ctx.log(`fixed rate for both sides: ${rate} req/s (a quarter of ${Math.round(sat.rps)})`);
      const runs = await alternate(ctx, SIDES, ctx.settings.rounds, async (side): Promise<LoadResult> => {
        const url = side === 'via service-a' ? `${a.url}/call-service-b` : `${b.url}/data`;
        const r = await runLoad(
          { url, connections: FIXED_RATE_CONNECTIONS, overallRate: rate, seconds: ctx.settings.seconds, warmupSeconds: ctx.settings.warmup },
          pids,
        );
        ctx.log(`  ${side}: ${describeLoad(r)}`);
        return r;
      });
      const via = runs['via service-a'];
      const direct = runs['service-b direct'];
      const gen = `generator ${median(via.map((r) => r.generatorCores)).toFixed(2)} / ${median(direct.map((r) => r.generatorCores)).toFixed(2)} cores`;
      for (const [p, target] of [
        ['p50', undefined],
        ['p99', 2],
      ] as const) {
        const d = spread(pairedDiffs(via.map((r) => r.latencyMs[p]), direct.map((r) => r.latencyMs[p])));
        ctx.figure({
          id: `hop.added-${p}`,
          item: 3,
          label: `Added ${p} per hop at ${rate} req/s (a quarter of saturation)`,
          value: d.median,
          unit: 'ms',
          target: target === undefined ? undefined : { op: '<=', value: target },
          detail:
            `${p} via service-a ${fmt(median(via.map((r) => r.latencyMs[p])))} ms, service-b direct ${fmt(median(direct.map((r) => r.latencyMs[p])))} ms; ` +
            `per-round differences ${fmt(d.min)}–${fmt(d.max)} ms, n=${d.n}; saturation ${fmt(sat.rps)} req/s; ${gen}`,
        });
      }
      return { saturation: sat, rate, runs };
    } finally {
      await chain.stop();
      await pipeline.stop();
    }
  },
};
