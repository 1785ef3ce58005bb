import { BadRequestException, Type, ValidationError, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import multipart from '@fastify/multipart';
import { Logger } from 'nestjs-pino';
import { installHttpMetrics } from './http-metrics';
import { ProblemException, ProblemFilter } from './problem';
import { ReadinessRegistry } from './readiness';
import { shutdownTelemetry } from './telemetry/shutdown';

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
}

function validationProblem(errors: ValidationError[]): ProblemException {
  const flat = (errs: ValidationError[], prefix = ''): { field: string; message: string }[] =>
    errs.flatMap((e) => [
      ...Object.values(e.constraints ?? {}).map((message) => ({ field: prefix + e.property, message })),
      ...flat(e.children ?? [], `${prefix}${e.property}.`),
    ]);
  const list = flat(errors);
  return new ProblemException(400, list.map((e) => e.message).join('; ') || 'invalid request', 'validation-error', { errors: list });
}

/**
 * Creates, configures and starts a service on Fastify (JSON and form bodies are parsed by default);
 * prints one line with its URL when it listens. A failure to start (port in use, bad model file)
 * ends the process with one readable line instead of a stack trace.
 */
export async function startService(options: StartOptions): Promise<NestFastifyApplication> {
  try {
    return await createAndListen(options);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const reason = e.code === 'EADDRINUSE' ? `port ${options.port} on ${options.host} is already in use` : e.message;
    process.stderr.write(`${options.serviceName}: failed to start: ${reason}\n`);
    process.exit(1);
  }
}

async function createAndListen(options: StartOptions): Promise<NestFastifyApplication> {
  const bodyLimit = options.bodyLimitBytes ?? 1024 * 1024;
  const adapter = new FastifyAdapter({ bodyLimit, logger: false, return503OnClosing: true });
  const app = await NestFactory.create<NestFastifyApplication>(options.module, adapter, { bufferLogs: true });
  app.useLogger(app.get(Logger));
  const fastify = app.getHttpAdapter().getInstance();
  installHttpMetrics(fastify);
  if (options.multipart) await app.register(multipart as never, { limits: { fileSize: bodyLimit, files: 1, fields: 10 } } as never);
  if (options.rawBodyTypes?.length) {
    fastify.addContentTypeParser(options.rawBodyTypes, { parseAs: 'buffer', bodyLimit }, (_req, body, done) => done(null, body));
  }
  app.useGlobalFilters(new ProblemFilter());
  app.useGlobalPipes(
    new ValidationPipe({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      stopAtFirstError: true,
      exceptionFactory: (errors) => (errors.length ? validationProblem(errors) : new BadRequestException()),
    }),
  );
  installGracefulShutdown(app, options.serviceName);
  await app.listen(options.port, options.host);
  app.get(Logger).log(`${options.serviceName} listening on http://${options.host}:${options.port}`);
  return app;
}

/** On SIGTERM/SIGINT: fail readiness, stop accepting, let in-flight requests finish, flush telemetry, exit. */
function installGracefulShutdown(app: NestFastifyApplication, serviceName: string): void {
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    const started = Date.now();
    const logger = app.get(Logger);
    app.get(ReadinessRegistry).markShuttingDown();
    const deadline = setTimeout(() => {
      logger.error(`${serviceName}: shutdown took longer than 10 s, exiting`);
      process.exit(1);
    }, 10_000);
    deadline.unref();
    try {
      await app.close();
      await shutdownTelemetry();
    } finally {
      logger.log(`${serviceName} stopped after ${signal} in ${Date.now() - started} ms`);
      process.exit(0);
    }
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}
