/**
 * The same one-route app on each HTTP stack, telemetry off, for the framework comparisons:
 *   node dist/src/bare-apps.js <nest-fastify|nest-express|fastify|node-http> <port>
 * GET / answers BENCH_BODY (a JSON text; default a small object), serialised per request on every
 * stack, as NestJS does. It prints "ready" once listening.
 */
import 'reflect-metadata';
import http from 'node:http';
import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';

const BODY: unknown = JSON.parse(process.env.BENCH_BODY ?? '{"service":"bench","status":"ok"}');

@Controller()
class IndexController {
  @Get()
  index() {
    return BODY;
  }
}

@Module({ controllers: [IndexController] })
class BenchModule {}

export const STACKS = ['nest-fastify', 'nest-express', 'fastify', 'node-http'] as const;
export type Stack = (typeof STACKS)[number];

async function main(stack: Stack, port: number): Promise<void> {
  const ready = () => process.stdout.write('ready\n');
  if (stack === 'node-http') {
    http
      .createServer((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(BODY));
      })
      .listen(port, '127.0.0.1', ready);
    return;
  }
  if (stack === 'fastify') {
    // Plain Fastify, no NestJS: the instance the Nest adapter would wrap (same Fastify version as
    // the services), with one route.
    const app = new FastifyAdapter({ logger: false }).getInstance();
    app.get('/', async () => BODY);
    await app.listen({ port, host: '127.0.0.1' });
    ready();
    return;
  }
  const adapter = stack === 'nest-express' ? new ExpressAdapter() : new FastifyAdapter();
  const app = await NestFactory.create(BenchModule, adapter, { logger: false });
  await app.listen(port, '127.0.0.1');
  ready();
}

if (require.main === module) {
  const [stack, port] = process.argv.slice(2);
  if (!STACKS.includes(stack as Stack) || !/^\d+$/.test(port ?? '')) {
    process.stderr.write(`usage: bare-apps.js <${STACKS.join('|')}> <port>\n`);
    process.exit(2);
  }
  // A normal exit on a signal, so `node --cpu-prof` writes its profile.
  for (const sig of ['SIGTERM', 'SIGINT'] as const) process.once(sig, () => process.exit(0));
  void main(stack as Stack, Number(port));
}
