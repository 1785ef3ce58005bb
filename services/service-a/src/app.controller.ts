import { Controller, Get, HttpCode, Logger, Post, Res } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import type { FastifyReply } from 'fastify';
import {
  AcceptsContentTypes,
  ApiAcceptedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProblems,
  ApiRequestBody,
  ProblemException,
  SchemaBody,
  type SchemaObject,
} from '@meridian/service-kit';
import { config, SERVICE_NAME } from './config';
import { HASH_REQUEST_SCHEMA, type HashRequest, sha256Iterated } from './hash';
import { nodeGaugeExample } from './metrics';
import { ServiceBClient } from './service-b.client';

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;

const obj = (properties: Record<string, SchemaObject>, required = Object.keys(properties)): SchemaObject => ({ type: 'object', required, properties });
const INDEX_SCHEMA = obj({
  service: { type: 'string', enum: [SERVICE_NAME] },
  status: { type: 'string', enum: ['ok'] },
  links: { type: 'object', additionalProperties: { type: 'string' } },
});
const LEVEL_LIST: SchemaObject = { type: 'array', items: { type: 'string', enum: [...LEVELS] } };
const LOGS_SCHEMA = obj({ emitted: LEVEL_LIST, suppressed: LEVEL_LIST, level: { type: 'string' } });
const CRASH_SCHEMA = obj({ crashing: { type: 'boolean', enum: [true] }, exitCode: { type: 'integer' } });
const EXAMPLE_SCHEMA = obj({ task: { type: 'string', enum: ['example'] }, durationSeconds: { type: 'number', minimum: 0 }, gauge: { type: 'string' } });
const CALL_SCHEMA = obj({
  service: { type: 'string', enum: [SERVICE_NAME] },
  from: { type: 'string', enum: ['service-b'] },
  data: obj({ service: { type: 'string' }, items: { type: 'array', items: { type: 'object' } }, generatedAt: { type: 'string' } }),
});
const HASH_SCHEMA = obj({
  algorithm: { type: 'string', enum: ['sha256'] },
  iterations: { type: 'integer', minimum: 1 },
  digest: { type: 'string', pattern: '^[0-9a-f]{64}$' },
});

@Controller()
export class AppController {
  private readonly logger = new Logger(AppController.name);

  constructor(
    private readonly serviceB: ServiceBClient,
    private readonly pino: PinoLogger,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Status and links' })
  @ApiOkResponse({ description: 'Status and links', schema: INDEX_SCHEMA })
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
  @ApiOperation({ summary: 'Always answers 500 problem+json, on purpose' })
  @ApiProblems(500)
  serverError(): never {
    this.logger.error('serverError route called: answering 500 on purpose');
    throw new ProblemException(500, 'This route always fails, on purpose.', 'intentional-server-error');
  }

  @Get('notFound')
  @ApiOperation({ summary: 'Always answers 404 problem+json, on purpose' })
  @ApiProblems(404)
  notFound(): never {
    throw new ProblemException(404, 'This route always answers 404, on purpose.', 'intentional-not-found');
  }

  /** One structured line per pino level; levels below LOG_LEVEL are dropped by the logger. */
  @Get('logs')
  @ApiOperation({ summary: 'Writes one structured log line per level' })
  @ApiOkResponse({ description: 'The levels written and those below LOG_LEVEL', schema: LOGS_SCHEMA })
  logs() {
    for (const level of LEVELS) this.pino[level]({ route: '/logs', level_name: level }, `example ${level} log line`);
    const enabled = LEVELS.filter((l) => this.pino.logger.isLevelEnabled(l));
    return { emitted: enabled, suppressed: LEVELS.filter((l) => !enabled.includes(l)), level: config.LOG_LEVEL };
  }

  /** Exits the process after answering, so a supervisor or Kubernetes restarts it. */
  @Get('crash')
  @ApiOperation({ summary: 'Answers 202, then the process exits (403 unless CRASH_ENABLED=true)' })
  @ApiAcceptedResponse({ description: 'The process exits after this answer', schema: CRASH_SCHEMA })
  @ApiProblems(403)
  crash(@Res() reply: FastifyReply): void {
    if (!config.CRASH_ENABLED) {
      throw new ProblemException(403, 'Crash faults are disabled; start service-a with CRASH_ENABLED=true.', 'crash-disabled');
    }
    this.logger.warn('crash requested: exiting after the answer is sent');
    reply.raw.once('finish', () => setTimeout(() => process.exit(1), 50));
    void reply.status(202).send({ crashing: true, exitCode: 1 });
  }

  @Get('example')
  @ApiOperation({ summary: 'An async task of random duration (up to EXAMPLE_MAX_MS) that sets node_gauge_example' })
  @ApiOkResponse({ description: 'The task and its duration', schema: EXAMPLE_SCHEMA })
  async example() {
    const ms = Math.round(Math.random() * config.EXAMPLE_MAX_MS);
    await new Promise((resolve) => setTimeout(resolve, ms));
    nodeGaugeExample.set(ms / 1000);
    this.logger.log({ durationMs: ms }, 'example task done');
    return { task: 'example', durationSeconds: ms / 1000, gauge: 'node_gauge_example' };
  }

  @Get('call-service-b')
  @ApiOperation({ summary: "Calls service-b's /data and relays it" })
  @ApiOkResponse({ description: "service-b's data", schema: CALL_SCHEMA })
  @ApiProblems(502, 503, 504)
  async callServiceB() {
    const data = await this.serviceB.data();
    this.logger.log({ items: data.items.length }, 'called service-b');
    return { service: SERVICE_NAME, from: 'service-b', data };
  }

  @Post('hash')
  @HttpCode(200)
  @AcceptsContentTypes('application/json', 'application/x-www-form-urlencoded')
  @ApiOperation({ summary: 'Iterated SHA-256 of the data' })
  @ApiRequestBody({ 'application/json': HASH_REQUEST_SCHEMA, 'application/x-www-form-urlencoded': HASH_REQUEST_SCHEMA })
  @ApiOkResponse({ description: 'The digest', schema: HASH_SCHEMA })
  @ApiProblems(400, 413, 415)
  hash(@SchemaBody(HASH_REQUEST_SCHEMA) body: HashRequest) {
    return { algorithm: 'sha256', iterations: body.iterations, digest: sha256Iterated(body.data, body.iterations) };
  }
}
