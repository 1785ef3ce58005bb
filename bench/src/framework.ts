/**
 * 2a. Cost of the framework: service-a `GET /` with telemetry off (NestJS on Fastify with the
 * service-kit: metrics hooks, helmet, pino access log, validation) against bare Fastify and bare
 * node:http answering the very same body.
 */
import type { Comparison, Ctx } from './context';
import type { LoadResult } from './load';
import { alternate, rpsRatioFigure, saturate, startBareApp } from './rounds';
import { startService } from './services';

const SIDES = ['service-a', 'fastify', 'node-http'] as const;

export const framework: Comparison = {
  name: 'framework',
  title: 'Framework cost: service-a GET / (SDK off) vs bare Fastify and bare node:http, same body',
  items: [2],
  async run(ctx: Ctx) {
    // service-a's readiness needs service-b; it stays idle during the runs.
    const b = await startService('service-b', { sdk: 'off' });
    try {
      const env = { SERVICE_B_URL: b.url };
      const probe = await startService('service-a', { sdk: 'off', env });
      const body = await (await fetch(`${probe.url}/`)).text();
      await probe.stop();
      ctx.log(`service-a GET / answers ${body.length} bytes; the bare servers answer the same JSON`);
      const runs = await alternate(ctx, SIDES, ctx.settings.rounds, async (side): Promise<LoadResult> => {
        if (side === 'service-a') {
          const a = await startService('service-a', { sdk: 'off', env });
          try {
            return await saturate(ctx, { url: `${a.url}/` }, [a.pid], side);
          } finally {
            await a.stop();
          }
        }
        const app = await startBareApp(side, { BENCH_BODY: body });
        try {
          return await saturate(ctx, { url: app.url }, [app.proc.pid], side);
        } finally {
          await app.stop();
        }
      });
      rpsRatioFigure(
        ctx,
        { id: 'framework.service-a-over-fastify', item: 2, label: 'service-a (NestJS, SDK off) ÷ bare Fastify, GET / req/s', target: { op: '>=', value: 0.6 } },
        runs['service-a'],
        runs.fastify,
        ['service-a', 'Fastify'],
      );
      rpsRatioFigure(
        ctx,
        { id: 'framework.service-a-over-node-http', item: 2, label: 'service-a (NestJS, SDK off) ÷ bare node:http, GET / req/s' },
        runs['service-a'],
        runs['node-http'],
        ['service-a', 'node:http'],
      );
      return runs;
    } finally {
      await b.stop();
    }
  },
};
