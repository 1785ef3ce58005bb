import type { Attributes, Span, Tracer } from '@opentelemetry/api';
import type { Instrumentation } from '@opentelemetry/instrumentation';
import { HttpInstrumentation, type HttpInstrumentationConfig } from '@opentelemetry/instrumentation-http';
import { NestInstrumentation } from '@opentelemetry/instrumentation-nestjs-core';
import { PinoInstrumentation } from '@opentelemetry/instrumentation-pino';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { FastifyOtelInstrumentation } from '@fastify/otel';
import type { FastifyRequest } from 'fastify';
import { FoldingTracerCache } from './folded-spans';
import { peerServiceAttributes } from './peer-service';
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
 * @fastify/otel makes the HTTP server span, from Fastify's own hooks: it starts in onRequest with
 * the caller's traceparent and ends in onSend with the status code, so it knows the route template
 * from the start. instrumentation-http did this per request with far more work (a URL parsed, the
 * request and response emitters bound to the context, attributes read twice); it now makes only the
 * client spans. The server span gets the name and attributes of the HTTP semantic conventions here,
 * and @fastify/otel's spans inside it (the not-found handler's) are folded into it.
 */
class FoldedFastifyOtelInstrumentation extends FastifyOtelInstrumentation {
  private readonly folding = new FoldingTracerCache(() => true);
  protected override get tracer(): Tracer {
    return this.folding.get(super.tracer);
  }
}

/** `GET /hash`, or the method alone for a path that matched no route (so names stay few). */
export function serverSpanName(method: string, route: string | undefined): string {
  return route ? `${method} ${route}` : method;
}

function nameServerSpan(span: Span, request: FastifyRequest): void {
  const route = request.routeOptions.url;
  span.updateName(serverSpanName(request.method, route));
  const attributes: Attributes = {
    'url.scheme': request.protocol,
    'server.address': request.hostname,
    'client.address': request.ip,
    'network.protocol.version': request.raw.httpVersion,
  };
  if (request.port) attributes['server.port'] = request.port;
  const agent = request.headers['user-agent'];
  if (agent) attributes['user_agent.original'] = agent;
  span.setAttributes(attributes);
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
  // Client spans only: the server span is @fastify/otel's. Each names the service it calls.
  const http: HttpInstrumentationConfig = { disableIncomingRequestInstrumentation: true, startOutgoingSpanHook: peerServiceAttributes };
  const fastify = new FoldedFastifyOtelInstrumentation({
    registerOnInitialization: true,
    // No span per Fastify hook nor for the handler: nestjs-core's span names the handler.
    instrumentHooks: false,
    instrumentHandler: false,
    ignorePaths: (route) => isQuietPath(route.url),
    requestHook: nameServerSpan,
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
  // Log lines are sent as OTLP log records only when a logs exporter is configured; otherwise the
  // instrumentation would still parse every line for a logger that drops it.
  const logsExporter = (process.env.OTEL_LOGS_EXPORTER ?? '').trim().toLowerCase();
  const pino = new PinoInstrumentation({ disableLogSending: logsExporter === '' || logsExporter === 'none' });
  return [new HttpInstrumentation(http), nest, pino, new UndiciInstrumentation(), fastify];
}
