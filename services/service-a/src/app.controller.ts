import { Body, Controller, Get, HttpCode, Logger, Post, Res } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import type { FastifyReply } from 'fastify';
import { AcceptsContentTypes, ProblemException } from '@meridian/service-kit';
import { config, SERVICE_NAME } from './config';
import { HashRequest, sha256Iterated } from './hash';
import { nodeGaugeExample } from './metrics';
import { ServiceBClient } from './service-b.client';

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;

@Controller()
export class AppController {
  private readonly logger = new Logger(AppController.name);

  constructor(
    private readonly serviceB: ServiceBClient,
    private readonly pino: PinoLogger,
  ) {}

  @Get()
  index() {
    return {
      service: SERVICE_NAME,
      status: 'ok',
      links: {
        healthy: '/healthy',
        ready: '/ready',
        metrics: '/metrics',
        callServiceB: '/call-service-b',
        example: '/example',
        logs: '/logs',
        hash: 'POST /hash',
        serverError: '/serverError',
        notFound: '/notFound',
        crash: config.CRASH_ENABLED ? '/crash' : '/crash (disabled: set CRASH_ENABLED=true)',
      },
    };
  }

  @Get('serverError')
  serverError(): never {
    this.logger.error('serverError route called: answering 500 on purpose');
    throw new ProblemException(500, 'This route always fails, on purpose.', 'intentional-server-error');
  }

  @Get('notFound')
  notFound(): never {
    throw new ProblemException(404, 'This route always answers 404, on purpose.', 'intentional-not-found');
  }

  /** One structured line per pino level; levels below LOG_LEVEL are dropped by the logger. */
  @Get('logs')
  logs() {
    for (const level of LEVELS) this.pino[level]({ route: '/logs', level_name: level }, `example ${level} log line`);
    const enabled = LEVELS.filter((l) => this.pino.logger.isLevelEnabled(l));
    return { emitted: enabled, suppressed: LEVELS.filter((l) => !enabled.includes(l)), level: config.LOG_LEVEL };
  }

  /** Exits the process after answering, so a supervisor or Kubernetes restarts it. */
  @Get('crash')
  crash(@Res() reply: FastifyReply): void {
    if (!config.CRASH_ENABLED) {
      throw new ProblemException(403, 'Crash faults are disabled; start service-a with CRASH_ENABLED=true.', 'crash-disabled');
    }
    this.logger.warn('crash requested: exiting after the answer is sent');
    reply.raw.once('finish', () => setTimeout(() => process.exit(1), 50));
    void reply.status(202).send({ crashing: true, exitCode: 1 });
  }

  @Get('example')
  async example() {
    const ms = Math.round(Math.random() * config.EXAMPLE_MAX_MS);
    await new Promise((resolve) => setTimeout(resolve, ms));
    nodeGaugeExample.set(ms / 1000);
    this.logger.log({ durationMs: ms }, 'example task done');
    return { task: 'example', durationSeconds: ms / 1000, gauge: 'node_gauge_example' };
  }

  @Get('call-service-b')
  async callServiceB() {
    const data = await this.serviceB.data();
    this.logger.log({ items: data.items.length }, 'called service-b');
    return { service: SERVICE_NAME, from: 'service-b', data };
  }

  @Post('hash')
  @HttpCode(200)
  @AcceptsContentTypes('application/json', 'application/x-www-form-urlencoded')
  hash(@Body() body: HashRequest) {
    const iterations = body.iterations ?? 1;
    return { algorithm: 'sha256', iterations, digest: sha256Iterated(body.data, iterations) };
  }
}
