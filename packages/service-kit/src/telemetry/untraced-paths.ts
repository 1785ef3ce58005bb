import { context } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import type { FastifyInstance } from 'fastify';

/** Routes that are polled by probes and scrapers: never traced, never counted as traffic. */
export const UNTRACED_PATHS: ReadonlySet<string> = new Set(['/healthy', '/ready', '/metrics']);

/** The OpenAPI document: counted as traffic, but neither traced nor logged (fuzzers fetch it often). */
export const DOCUMENT_PATHS: ReadonlySet<string> = new Set(['/openapi.json']);

function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

export function isUntracedPath(url: string | undefined): boolean {
  if (!url) return false;
  return UNTRACED_PATHS.has(pathOf(url));
}

/** Not traced and not logged per request: the probes, /metrics and the OpenAPI document. */
export function isQuietPath(url: string | undefined): boolean {
  if (!url) return false;
  const p = pathOf(url);
  return UNTRACED_PATHS.has(p) || DOCUMENT_PATHS.has(p);
}

/** Never slowed or failed by the latency and error faults (readiness-fail acts on /ready itself). */
export const isUnfaultedPath = isQuietPath;

/**
 * Requests to the quiet paths run with tracing suppressed, so that no instrumentation inside them
 * (nestjs-core's handler span, a client call) starts a trace of its own: the server span is left
 * out for them by @fastify/otel's ignorePaths, and nothing else may stand in for it.
 */
export function installUntracedRequests(fastify: FastifyInstance): void {
  fastify.addHook('onRequest', (request, _reply, done) => {
    if (isQuietPath(request.url)) context.with(suppressTracing(context.active()), done);
    else done();
  });
}
