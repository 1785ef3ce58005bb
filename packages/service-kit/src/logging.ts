import type { Params } from 'nestjs-pino';
import type { IncomingMessage } from 'node:http';
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
      // Middleware mounting rewrites req.url; originalUrl is the path the client asked for.
      autoLogging: { ignore: (req: IncomingMessage & { originalUrl?: string }) => isQuietPath(req.originalUrl ?? req.url) },
      serializers: {
        req: (req: { method?: string; url?: string }) => ({ method: req.method, url: req.url }),
        res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
      },
    },
  };
}
