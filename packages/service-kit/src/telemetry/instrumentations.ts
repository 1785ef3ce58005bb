import type { Tracer } from '@opentelemetry/api';
import type { Instrumentation } from '@opentelemetry/instrumentation';
import { HttpInstrumentation, type HttpInstrumentationConfig } from '@opentelemetry/instrumentation-http';
import { NestInstrumentation } from '@opentelemetry/instrumentation-nestjs-core';
import { PinoInstrumentation } from '@opentelemetry/instrumentation-pino';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { FastifyOtelInstrumentation } from '@fastify/otel';
import type { IncomingMessage } from 'node:http';
import { FoldingTracerCache } from './folded-spans';
import { isQuietPath } from './untraced-paths';

/**
 * nestjs-core makes two spans per request: `AppController.index` (the request in Nest: guards,
 * pipes, handler, with http.route) and, inside it, `index` (the method alone). The inner one is
 * folded into the outer one: spans made in the handler become children of `AppController.index`.
 */
class FoldedNestInstrumentation extends NestInstrumentation {
  private readonly folding = new FoldingTracerCache((_name, options) => options?.attributes?.['nestjs.type'] === 'handler');
  protected override get tracer(): Tracer {
    return this.folding.get(super.tracer);
  }
}

/**
 * @fastify/otel names the route on the HTTP server span (http.route) and would add a `request` span
 * that repeats the server span (and, for unknown routes, a not-found handler span): those are folded
 * into the server span. The route handler itself is named by nestjs-core's span.
 */
class FoldedFastifyOtelInstrumentation extends FastifyOtelInstrumentation {
  private readonly folding = new FoldingTracerCache(() => true);
  protected override get tracer(): Tracer {
    return this.folding.get(super.tracer);
  }
}

/**
 * The explicit instrumentation list of the telemetry contract: http, undici, nestjs-core, pino and
 * Fastify (@fastify/otel). Everything else (fs, net, dns, and the database clients) stays off: it
 * costs memory and CPU and adds nothing to this suite. MERIDIAN_OTEL_INSTRUMENTATIONS=all turns on
 * the full default set of auto-instrumentations-node instead, for the cost benchmark.
 */
export function buildInstrumentations(mode = process.env.MERIDIAN_OTEL_INSTRUMENTATIONS ?? 'contract'): Instrumentation[] {
  // Required only for `all`: the package requires every instrumentation it knows (~40) when loaded,
  // which costs start-up time and memory that the explicit list does not need. It must be loaded
  // before any instrumentation is created: a core module (http) first required while the require
  // hook is installed but its instrumentation not yet registered is never patched afterwards.
  const auto =
    mode === 'all' ? (require('@opentelemetry/auto-instrumentations-node') as typeof import('@opentelemetry/auto-instrumentations-node')) : undefined;
  const http: HttpInstrumentationConfig = {
    ignoreIncomingRequestHook: (req: IncomingMessage) => isQuietPath(req.url),
  };
  const fastify = new FoldedFastifyOtelInstrumentation({
    registerOnInitialization: true,
    // No span per Fastify hook nor for the handler: nestjs-core's span names the handler.
    instrumentHooks: false,
    instrumentHandler: false,
    ignorePaths: (route) => isQuietPath(route.url),
  }) as unknown as Instrumentation;
  const nest = new FoldedNestInstrumentation();
  if (auto) {
    // The same spans per request as the explicit list (nestjs-core folded as above), more instrumentations.
    const all = auto.getNodeAutoInstrumentations({
      '@opentelemetry/instrumentation-http': http,
      '@opentelemetry/instrumentation-nestjs-core': { enabled: false },
    });
    return [...all, nest, fastify];
  }
  return [new HttpInstrumentation(http), nest, new PinoInstrumentation(), new UndiciInstrumentation(), fastify];
}
