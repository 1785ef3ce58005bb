import type { Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import multipart from '@fastify/multipart';
import { Logger } from 'nestjs-pino';
import type { FaultInjector } from './faults/fault-injector';
import { publishFaultState } from './faults/state';
import { installHttpMetrics } from './http-metrics';
import { flushLogs, installRequestLogging } from './logging';
import { buildOpenApiDocument, OPENAPI_PATH } from './openapi';
import { releaseStartupMemory } from './startup-memory';
import { ProblemFilter } from './problem';
import { ReadinessRegistry } from './readiness';
import { installSecurityHeaders } from './security-headers';
import { RUNTIME_CONFIG, RuntimeConfig } from './runtime-config';
import { ConfigError, loadConfigOrExit } from './config';
import { connectionLimitOptions, installBodyDiscard, installContentEncodingCheck } from './connection-limits';
import { contractResourceAttributes } from './telemetry/resource';
import { shutdownTelemetry } from './telemetry/shutdown';
import { installUntracedRequests } from './telemetry/untraced-paths';
import { closeProbes, listenForProbes } from './probe-listener';
import type { Server } from 'node:http';

export interface StartOptions {
  serviceName: string;
  module: Type<unknown>;
  host: string;
  port: number;
  /** Largest request body accepted, in bytes; larger ones get 413 problem+json. */
  bodyLimitBytes?: number;
  /** Accept multipart/form-data uploads (one file). */
  multipart?: boolean;
  /** Content types read as a raw Buffer body (images, tensors). */
  rawBodyTypes?: string[];
  /** One paragraph for the OpenAPI document's description. */
  description?: string;
}

/**
 * Creates, configures and starts a service on Fastify (JSON and form bodies are parsed by default);
 * prints one line with its URL when it listens. A failure to start (port in use, bad model file)
 * ends the process with one readable line instead of a stack trace.
 */
export async function startService(options: StartOptions): Promise<NestFastifyApplication> {
  // Shared settings (faults, shutdown, resilience) are checked like the service's own.
  const runtime = loadConfigOrExit(options.serviceName, RUNTIME_CONFIG, (config) => {
    connectionLimitOptions(config);
    if (config.PROBE_PORT === options.port) throw new ConfigError(`PROBE_PORT (${config.PROBE_PORT}) must differ from the service's port`);
  });
  try {
    return await createAndListen(options, runtime);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const port = (e as { port?: number }).port ?? options.port;
    const reason = e.code === 'EADDRINUSE' ? `port ${port} on ${options.host} is already in use` : e.message;
    process.stderr.write(`${options.serviceName}: failed to start: ${reason}\n`);
    process.exit(1);
  }
}

async function createAndListen(options: StartOptions, runtime: RuntimeConfig): Promise<NestFastifyApplication> {
  const bodyLimit = options.bodyLimitBytes ?? 1024 * 1024;
  // Requests that arrive on open connections while closing are served (with Connection: close)
  // rather than refused: the drain is there so that nothing in flight fails.
  const limits = connectionLimitOptions(runtime);
  const adapter = new FastifyAdapter({ bodyLimit, logger: false, return503OnClosing: false, ...limits });
  const app = await NestFactory.create<NestFastifyApplication>(options.module, adapter, { bufferLogs: true });
  app.useLogger(app.get(Logger));
  const fastify = app.getHttpAdapter().getInstance();
  installUntracedRequests(fastify);
  installHttpMetrics(fastify);
  installRequestLogging(fastify);
  installContentEncodingCheck(fastify);
  installBodyDiscard(fastify, runtime.HTTP_DISCARD_MAX_BYTES);
  // Security headers on every answer (helmet's default policy; a JSON API needs no relaxation of it).
  installSecurityHeaders(fastify);
  if (options.multipart) await app.register(multipart as never, { limits: { fileSize: bodyLimit, files: 1, fields: 10 } } as never);
  if (options.rawBodyTypes?.length) {
    fastify.addContentTypeParser(options.rawBodyTypes, { parseAs: 'buffer', bodyLimit }, (_req, body, done) => done(null, body));
  }
  app.useGlobalFilters(new ProblemFilter());
  // Built when first asked for (see openapi.ts): most processes never serve it.
  let document: string | undefined;
  fastify.get(OPENAPI_PATH, (_req, reply) => {
    document ??= JSON.stringify(
      buildOpenApiDocument(app, options.serviceName, contractResourceAttributes()['service.version'], options.description),
    );
    void reply.header('content-type', 'application/json; charset=utf-8').send(document);
  });
  publishFaultState();
  let faults: FaultInjector | undefined;
  if (runtime.FLAGS_FILE) {
    // Loaded only here: flagd's engine and OpenFeature, which a service without faults does not need.
    const { FaultInjector } = require('./faults/fault-injector') as typeof import('./faults/fault-injector');
    faults = new FaultInjector({
      serviceName: options.serviceName,
      flagsFile: runtime.FLAGS_FILE,
      pollMs: runtime.FLAGS_POLL_MS,
      unsafeEnabled: runtime.FAULTS_UNSAFE_ENABLED,
      memoryMaxMb: runtime.FAULT_MEMORY_MAX_MB,
    });
    faults.install(fastify, app.get(ReadinessRegistry));
    await faults.start();
  }
  const probes: { server?: Server } = {};
  installGracefulShutdown(app, options.serviceName, runtime, faults, probes);
  await app.listen(options.port, options.host);
  releaseStartupMemory();
  // After the app is ready: the probe port passes its requests to the app's own handler.
  if (runtime.PROBE_PORT) {
    const { http, requestTimeout, keepAliveTimeout } = limits;
    probes.server = await listenForProbes(fastify, options.host, runtime.PROBE_PORT, { ...http, requestTimeout, keepAliveTimeout });
  }
  const probeNote = runtime.PROBE_PORT ? ` (probes also on http://${options.host}:${runtime.PROBE_PORT})` : '';
  app.get(Logger).log(`${options.serviceName} listening on http://${options.host}:${options.port}${probeNote}`);
  return app;
}

/**
 * On SIGTERM/SIGINT: fail readiness, keep serving for SHUTDOWN_DRAIN_MS so load balancers notice,
 * stop accepting, let in-flight requests finish, flush telemetry, exit, all within
 * SHUTDOWN_TIMEOUT_MS (past it the process exits 1).
 */
function installGracefulShutdown(
  app: NestFastifyApplication,
  serviceName: string,
  runtime: RuntimeConfig,
  faults: FaultInjector | undefined,
  probes: { server?: Server },
): void {
  let stopping = false;
  const bound = runtime.SHUTDOWN_TIMEOUT_MS;
  const drain = Math.min(runtime.SHUTDOWN_DRAIN_MS, bound);
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    const started = Date.now();
    const logger = app.get(Logger);
    app.get(ReadinessRegistry).markShuttingDown();
    logger.log(`${serviceName}: ${signal}: readiness now fails; draining ${drain} ms, then closing (bound ${bound} ms)`);
    const deadline = setTimeout(() => {
      logger.error(`${serviceName}: shutdown took longer than ${bound} ms (SHUTDOWN_TIMEOUT_MS), exiting`);
      process.exit(1);
    }, bound);
    deadline.unref();
    let code = 0;
    try {
      if (drain > 0) await new Promise((resolve) => setTimeout(resolve, drain));
      await faults?.stop();
      await app.close();
      if (probes.server) await closeProbes(probes.server);
      await shutdownTelemetry();
    } catch (err) {
      code = 1;
      logger.error(`${serviceName}: error during shutdown: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      logger.log(`${serviceName} stopped after ${signal} in ${Date.now() - started} ms`);
      // The last lines, unless stdout is stuck: then the bound, not the reader, decides.
      await flushLogs(Math.max(0, Math.min(1000, bound - (Date.now() - started))));
      process.exit(code);
    }
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}
