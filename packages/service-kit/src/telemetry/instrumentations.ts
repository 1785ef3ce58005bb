import { getNodeAutoInstrumentations } from '@opentelemetry/auto-instrumentations-node';
import type { Instrumentation } from '@opentelemetry/instrumentation';
import { FastifyOtelInstrumentation } from '@fastify/otel';
import type { IncomingMessage } from 'node:http';
import { isQuietPath } from './untraced-paths';

/**
 * The explicit instrumentation list of the telemetry contract. Everything else (fs, net, dns, and
 * the database clients) stays off: it costs memory and CPU and adds nothing to this suite.
 * MERIDIAN_OTEL_INSTRUMENTATIONS=all turns on the full default set, for the cost benchmark.
 */
export const ENABLED_AUTO_INSTRUMENTATIONS = [
  '@opentelemetry/instrumentation-http',
  '@opentelemetry/instrumentation-undici',
  '@opentelemetry/instrumentation-nestjs-core',
  '@opentelemetry/instrumentation-pino',
] as const;

export function buildInstrumentations(mode = process.env.MERIDIAN_OTEL_INSTRUMENTATIONS ?? 'contract'): Instrumentation[] {
  const http = {
    ignoreIncomingRequestHook: (req: IncomingMessage) => isQuietPath(req.url),
  };
  const fastify = new FastifyOtelInstrumentation({
    registerOnInitialization: true,
    // One span for the route handler; a span per Fastify hook would triple a trace's size for nothing.
    instrumentHooks: false,
    ignorePaths: (route) => isQuietPath(route.url),
  }) as unknown as Instrumentation;
  if (mode === 'all') {
    return [...getNodeAutoInstrumentations({ '@opentelemetry/instrumentation-http': http }), fastify];
  }
  const config: Record<string, { enabled: boolean } & Record<string, unknown>> = {};
  for (const name of ALL_AUTO_INSTRUMENTATION_NAMES) config[name] = { enabled: false };
  for (const name of ENABLED_AUTO_INSTRUMENTATIONS) config[name] = { enabled: true };
  config['@opentelemetry/instrumentation-http'] = { enabled: true, ...http };
  return [...getNodeAutoInstrumentations(config), fastify];
}

/** Every name the auto-instrumentations package knows; each one not in the list above is disabled. */
const ALL_AUTO_INSTRUMENTATION_NAMES = [
  'amqplib', 'aws-lambda', 'aws-sdk', 'bunyan', 'cassandra-driver', 'connect', 'cucumber', 'dataloader',
  'dns', 'express', 'fs', 'generic-pool', 'graphql', 'grpc', 'hapi', 'host-metrics', 'http', 'ioredis',
  'kafkajs', 'knex', 'koa', 'lru-memoizer', 'memcached', 'mongodb', 'mongoose', 'mysql2', 'mysql',
  'nestjs-core', 'net', 'openai', 'oracledb', 'pg', 'pino', 'redis', 'restify', 'router',
  'runtime-node', 'socket.io', 'tedious', 'undici', 'winston',
].map((n) => `@opentelemetry/instrumentation-${n}`);
