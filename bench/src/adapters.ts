/**
 * 2b. The two NestJS HTTP adapters against each other, and against a bare node:http server: the
 * same one-route app (bare-apps.ts), telemetry off.
 */
import type { Comparison, Ctx } from './context';
import type { LoadResult } from './load';
import { alternate, saturate, startBareApp } from './rounds';
import { fmt, medianPairedRatio, median } from './stats';

const SIDES = ['nest-fastify', 'nest-express', 'node-http'] as const;

export const adapters: Comparison = {
  name: 'adapters',
  title: 'NestJS adapters: Fastify vs Express vs bare node:http (same app, telemetry off)',
  items: [2],
  async run(ctx: Ctx) {
    const runs = await alternate(ctx, SIDES, ctx.settings.rounds, async (stack): Promise<LoadResult> => {
      const app = await startBareApp(stack);
      try {
        return await saturate(ctx, { url: app.url }, [app.proc.pid], stack);
      } finally {
        await app.stop();
      }
    });
    const rps = (s: (typeof SIDES)[number]) => runs[s].map((r) => r.rps);
    const gen = (s: (typeof SIDES)[number]) => median(runs[s].map((r) => r.generatorCores));
    const ctxLine = (a: (typeof SIDES)[number], b: (typeof SIDES)[number], spreadText: string) =>
      `median ${fmt(median(rps(a)))} vs ${fmt(median(rps(b)))} req/s; generator ${gen(a).toFixed(2)} / ${gen(b).toFixed(2)} cores; ${spreadText}`;
    const fe = medianPairedRatio(rps('nest-fastify'), rps('nest-express'));
    ctx.figure({
      id: 'adapters.fastify-over-express',
      item: 2,
      label: 'NestJS on Fastify ÷ NestJS on Express, GET / req/s',
      value: fe.median,
      unit: '',
      detail: ctxLine('nest-fastify', 'nest-express', `rounds ${fmt(fe.min)}–${fmt(fe.max)} (n=${fe.n})`),
    });
    const fb = medianPairedRatio(rps('nest-fastify'), rps('node-http'));
    ctx.figure({
      id: 'adapters.nest-fastify-over-node-http',
      item: 2,
      label: 'NestJS on Fastify ÷ bare node:http, GET / req/s',
      value: fb.median,
      unit: '',
      detail: ctxLine('nest-fastify', 'node-http', `rounds ${fmt(fb.min)}–${fmt(fb.max)} (n=${fb.n})`),
    });
    return runs;
  },
};
