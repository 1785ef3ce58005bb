/**
 * 4. Memory: RSS (VmRSS) of each service idle and under load, with and without the SDK. All six
 * services run; "under load" is the peak over two phases: service-a `/call-service-b` saturated
 * (32 connections), then the edge fed JPEGs two at a time (which loads the ensemble and both models).
 */
import { ALL_SERVICES } from './coldstart';
import type { Comparison, Ctx } from './context';
import { benchJpeg } from './inputs';
import { describeLoad, runLoad } from './load';
import { startPipeline } from './pipeline';
import { RssSampler, rssMiB, sleep } from './procs';
import { alternate } from './rounds';
import { Chain, ServiceName, startChain } from './services';
import { fmt, median } from './stats';

export interface MemoryRun {
  idle: Record<string, number>;
  load: Record<string, number>;
}

/** Edge load: two images in flight, enough to keep the ensemble and both models busy. */
export const EDGE_CONNECTIONS = 2;

export async function loadEverything(ctx: Ctx, chain: Chain, jpeg: string, seconds: number): Promise<Map<string, number>> {
  const pids = new Map([...chain.services.values()].map((s) => [s.name as string, [s.pid]]));
  const sampler = new RssSampler(pids);
  const a = chain.get('service-a');
  const edge = chain.get('preprocessing-edge');
  const ra = await runLoad({ url: `${a.url}/call-service-b`, connections: 32, seconds, warmupSeconds: ctx.settings.warmup }, [a.pid, chain.get('service-b').pid]);
  ctx.log(`  load service-a /call-service-b: ${describeLoad(ra)}`);
  const re = await runLoad(
    { url: `${edge.url}/preprocessing`, method: 'POST', bodyBase64: jpeg, headers: { 'content-type': 'image/jpeg' }, connections: EDGE_CONNECTIONS, seconds, warmupSeconds: ctx.settings.warmup },
    [edge.pid],
  );
  ctx.log(`  load edge /preprocessing (${EDGE_CONNECTIONS} in flight): ${describeLoad(re)}`);
  return sampler.stop();
}

export const memory: Comparison = {
  name: 'memory',
  title: 'Memory per service (VmRSS): idle and under load, SDK off and on',
  items: [4],
  async run(ctx: Ctx) {
    const jpeg = (await benchJpeg()).toString('base64');
    const pipeline = await startPipeline();
    const seconds = ctx.settings.quick ? 2 : 4;
    try {
      const runs = await alternate(ctx, ['off', 'on'] as const, ctx.settings.fewRounds, async (sdk): Promise<MemoryRun> => {
        const chain = await startChain(ALL_SERVICES, { sdk, pipeline });
        try {
          await sleep(ctx.settings.quick ? 1500 : 3000);
          const idle = Object.fromEntries([...chain.services.values()].map((s) => [s.name, rssMiB(s.pid)]));
          const peak = await loadEverything(ctx, chain, jpeg, seconds);
          const load = Object.fromEntries([...peak].filter(([k]) => k !== '(total)'));
          ctx.log(`  SDK ${sdk} RSS MiB idle → load: ${ALL_SERVICES.map((n) => `${n} ${Math.round(idle[n])}→${Math.round(load[n])}`).join(', ')}`);
          return { idle, load };
        } finally {
          await chain.stop();
        }
      });
      for (const name of ALL_SERVICES as ServiceName[]) {
        const m = (sdk: 'on' | 'off', phase: 'idle' | 'load') => median(runs[sdk].map((r) => r[phase][name]));
        const limit = name.startsWith('inference-') ? 300 : 120;
        ctx.figure({
          id: `memory.${name}.load`,
          item: 4,
          label: `RSS ${name} under load, SDK on`,
          value: m('on', 'load'),
          unit: 'MiB',
          target: { op: '<=', value: limit },
          detail: `idle ${fmt(m('on', 'idle'))} MiB; SDK off: idle ${fmt(m('off', 'idle'))}, load ${fmt(m('off', 'load'))} MiB`,
        });
        ctx.figure({
          id: `memory.${name}.sdk-added`,
          item: 4,
          label: `RSS the SDK adds to ${name}, under load`,
          value: m('on', 'load') - m('off', 'load'),
          unit: 'MiB',
          target: { op: '<=', value: 40 },
          detail: `idle: ${fmt(m('on', 'idle') - m('off', 'idle'))} MiB`,
        });
      }
      return runs;
    } finally {
      await pipeline.stop();
    }
  },
};
