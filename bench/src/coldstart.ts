/**
 * 5a. Cold start per service: process spawn to the first 200 from `/ready`, with and without the
 * SDK. Services start one at a time in dependency order (each with its peers already up), so each
 * start has the machine to itself; /ready is polled every 10 ms.
 */
import type { Comparison, Ctx } from './context';
import { startPipeline } from './pipeline';
import { alternate } from './rounds';
import { RunningService, ServiceName, startChain } from './services';
import { fmt, median } from './stats';

export const ALL_SERVICES: ServiceName[] = [
  'service-b',
  'service-a',
  'inference-efficientnetb0',
  'inference-mobilenetv2',
  'inference-ensemble',
  'preprocessing-edge',
];

export const coldstart: Comparison = {
  name: 'coldstart',
  title: 'Cold start per service: spawn to /ready 200, SDK off and on',
  items: [5],
  async run(ctx: Ctx) {
    const pipeline = await startPipeline();
    try {
      const runs = await alternate(ctx, ['off', 'on'] as const, ctx.settings.fewRounds, async (sdk) => {
        const ms = new Map<ServiceName, number>();
        const chain = await startChain(ALL_SERVICES, { sdk, pipeline }, (s: RunningService) => {
          ms.set(s.name, s.readyMs);
          ctx.log(`  ${s.name} (SDK ${sdk}) ready in ${Math.round(s.readyMs)} ms`);
        });
        await chain.stop();
        return ms;
      });
      for (const name of ALL_SERVICES) {
        const on = runs.on.map((m) => m.get(name)!);
        const off = runs.off.map((m) => m.get(name)!);
        ctx.figure({
          id: `coldstart.${name}`,
          item: 5,
          label: `Cold start ${name}, SDK on`,
          value: median(on) / 1000,
          unit: 's',
          target: { op: '<=', value: 1.5 },
          detail: `SDK off ${fmt(median(off) / 1000)} s; SDK adds ${fmt((median(on) - median(off)) / 1000)} s; rounds ${on.length} (on: ${on.map((x) => fmt(x / 1000)).join(', ')} s)`,
        });
      }
      return Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, v.map((m) => Object.fromEntries(m))]));
    } finally {
      await pipeline.stop();
    }
  },
};
