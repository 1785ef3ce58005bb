import { context, createContextKey, type Attributes } from '@opentelemetry/api';

/**
 * The service an outbound call goes to, on its client span as `server.service.name` (semantic
 * conventions 1.45; formerly `peer.service`). The collector's span metrics keep it as a dimension,
 * so the calls between services, the edges of the service graph, come from the span metrics.
 * HttpClient sets it around each call; the http instrumentation's hook reads it when the client
 * span starts.
 */
export const SERVER_SERVICE_NAME = 'server.service.name';

const PEER_SERVICE = createContextKey('meridian server.service.name');

/** Runs fn (an outbound call) with the name of the service it calls. */
export function withPeerService<T>(peer: string, fn: () => T): T {
  return context.with(context.active().setValue(PEER_SERVICE, peer), fn);
}

/** Attributes of a client span starting now: the called service's name, when HttpClient set one. */
export function peerServiceAttributes(): Attributes {
  const peer = context.active().getValue(PEER_SERVICE);
  return typeof peer === 'string' ? { [SERVER_SERVICE_NAME]: peer } : {};
}
