/**
 * The same one-route app on each HTTP stack, telemetry off, for the framework comparisons:
 *   node dist/src/bare-apps.js <nest-fastify|nest-express|node-http> <port>
 * It prints "ready" once listening.
 */
import 'reflect-metadata';
import http from 'node:http';
import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';

const BODY = { service: 'bench', status: 'ok' };

@Controller()
class IndexController {
  @Get()
  index() {
    return BODY;
  }
}

@Module({ controllers: [IndexController] })
class BenchModule {}

export const STACKS = ['nest-fastify', 'nest-express', 'node-http'] as const;
export type Stack = (typeof STACKS)[number];

async function main(stack: Stack, port: number): Promise<void> {
  if (stack === 'node-http') {
    const payload = JSON.stringify(BODY);
    http
      .createServer((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' }).end(payload);
      })
      .listen(port, '127.0.0.1', () => process.stdout.write('ready\n'));
    return;
  }
  const adapter = stack === 'nest-express' ? new ExpressAdapter() : new FastifyAdapter();
  const app = await NestFactory.create(BenchModule, adapter, { logger: false });
  await app.listen(port, '127.0.0.1');
  process.stdout.write('ready\n');
}

if (require.main === module) {
  const [stack, port] = process.argv.slice(2);
  if (!STACKS.includes(stack as Stack) || !/^\d+$/.test(port ?? '')) {
    process.stderr.write(`usage: bare-apps.js <${STACKS.join('|')}> <port>\n`);
    process.exit(2);
  }
  void main(stack as Stack, Number(port));
}
