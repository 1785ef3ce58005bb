import type { FastifyInstance } from 'fastify';
import { PinoLogger, type Params } from 'nestjs-pino';
// Not in nestjs-pino's index: the AsyncLocalStorage from which its PinoLogger and Logger take the
// logger of the request being handled.
import { storage, Store } from 'nestjs-pino/storage';
import { isQuietPath } from './telemetry/untraced-paths';

/**
 * pino JSON on stdout. The pino instrumentation adds trace_id and span_id to every line written
 * inside a span, which is what lets a log backend jump from a line to its trace.
 */
export function loggerOptions(serviceName: string, level: string): Params {
  return {
    pinoHttp: {
      level,
      base: { service: serviceName },
      messageKey: 'msg',
      timestamp: () => `,"time":"${new Date().toISOString()}"`,
      formatters: { level: (label: string) => ({ level: label }) },
      redact: ['req.headers.authorization', 'req.headers.cookie'],
      serializers: {
        req: (req: { method?: string; url?: string }) => ({ method: req.method, url: req.url }),
        res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
      },
    },
    // No middleware: requests are logged by installRequestLogging, from Fastify hooks.
    forRoutes: [],
  };
}

/**
 * What nestjs-pino's middleware (pino-http) did per request, from a Fastify hook instead of an
 * express-style middleware run through @fastify/middie: lines written while handling a request go
 * through a child logger carrying `req`, and the request ends with one "request completed" line
 * ("request errored" with `err` for a 5xx, "request aborted" when the client went away), with `res`
 * and `responseTime` in ms. The probes, /metrics and the OpenAPI document get no such line.
 */
export function installRequestLogging(fastify: FastifyInstance): void {
  fastify.addHook('onRequest', (request, reply, done) => {
    const req = request.raw;
    const res = reply.raw;
    // The root logger, made by LoggerModule from the pinoHttp options above (serializers included).
    const log = PinoLogger.root.child({ req });
    const started = Date.now();
    const complete = (err?: Error) => {
      res.removeListener('close', complete);
      res.removeListener('finish', complete);
      res.removeListener('error', complete);
      const responseTime = Date.now() - started;
      if (err || res.statusCode >= 500) {
        log.info({ res, err: err ?? new Error(`failed with status code ${res.statusCode}`), responseTime }, 'request errored');
      } else {
        log.info({ res, responseTime }, !req.readableAborted && res.writableEnded ? 'request completed' : 'request aborted');
      }
    };
    if (!isQuietPath(req.url)) {
      res.on('close', complete);
      res.on('finish', complete);
    }
    res.on('error', complete);
    storage.run(new Store(log), done);
  });
}
