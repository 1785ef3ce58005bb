import type { ServerOptions } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { ConfigError } from './config';
import { problem, sendProblem } from './problem';
import type { RuntimeConfig } from './runtime-config';

/**
 * How long a client may take, in one place: Node's own defaults (60 s for headers, checked every
 * 30 s, 72 s idle keep-alive under Fastify) let a slow client hold a connection for well over a minute.
 * The limits are RUNTIME_CONFIG settings (HTTP_HEADERS_TIMEOUT_MS, HTTP_REQUEST_TIMEOUT_MS,
 * HTTP_KEEPALIVE_TIMEOUT_MS); a client past one gets 408 or its connection closed.
 */
export function connectionLimitOptions(runtime: RuntimeConfig): { requestTimeout: number; keepAliveTimeout: number; http: ServerOptions } {
  const headers = runtime.HTTP_HEADERS_TIMEOUT_MS;
  const request = runtime.HTTP_REQUEST_TIMEOUT_MS;
  // Node refuses a headers timeout longer than the request timeout; say so in the settings' words.
  if (headers > request) {
    throw new ConfigError(`HTTP_HEADERS_TIMEOUT_MS (${headers}) must not be larger than HTTP_REQUEST_TIMEOUT_MS (${request})`);
  }
  return {
    requestTimeout: request,
    keepAliveTimeout: runtime.HTTP_KEEPALIVE_TIMEOUT_MS,
    http: {
      headersTimeout: headers,
      // Node enforces both timeouts only when it checks its connections: often enough that a limit
      // holds to within a quarter of it (at most a second late), rare enough to cost nothing.
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(headers / 4))),
    },
  };
}

/** Codings a request body may have. Compressed bodies are refused rather than inflated: see below. */
export const ACCEPTED_CONTENT_CODINGS = ['identity'];

/**
 * A request body with a Content-Encoding (gzip, br, ...) is answered 415 with `Accept-Encoding:
 * identity` (RFC 9110 §15.5.16), instead of being parsed as if it were plain and answered "not valid
 * JSON". Refusing is the simpler promise: a 1 KiB gzip body can inflate to gigabytes, and every body
 * limit here is about what the service holds in memory.
 */
export function installContentEncodingCheck(fastify: FastifyInstance): void {
  fastify.addHook('onRequest', (request, reply, done) => {
    const coding = request.headers['content-encoding'];
    if (coding === undefined) return done();
    const codings = coding.split(',').map((c) => c.trim().toLowerCase()).filter(Boolean);
    if (codings.every((c) => ACCEPTED_CONTENT_CODINGS.includes(c))) return done();
    void reply.header('accept-encoding', ACCEPTED_CONTENT_CODINGS.join(', '));
    sendProblem(
      reply,
      request,
      problem(415, `Content-Encoding ${coding} is not accepted: send the body uncompressed.`, 'unsupported-content-encoding', {
        accepted: ACCEPTED_CONTENT_CODINGS,
      }),
    );
  });
}

/**
 * An answer given before the whole body was read (413, 415, 404, a validation error, ...) must reach
 * the client. Node would close the connection with the rest of the body still on the wire, and a
 * client that writes its whole body before reading (Python's urllib, most SDKs) then gets a reset
 * instead of the answer. So the rest is read and discarded first, up to HTTP_DISCARD_MAX_BYTES and
 * within the request timeout, as nginx's lingering close does; past the bound the connection is closed.
 */
export function installBodyDiscard(fastify: FastifyInstance, maxBytes: number): void {
  // A callback hook, not an async one: nearly every request has been read whole by now, and an
  // async hook would cost each of them a promise.
  fastify.addHook('onSend', (request, reply, payload, done) => {
    const raw = request.raw;
    if (raw.complete || raw.destroyed || raw.readableEnded) return done(null, payload);
    // A multipart parser may still be reading from it; what it has not read is discarded here.
    raw.unpipe();
    let seen = 0;
    const finish = (drained: boolean) => {
      raw.removeListener('data', onData);
      raw.removeListener('end', onEnd);
      raw.removeListener('close', onClose);
      // Fastify asks for a close after a body it refused, in case more of it follows; once the body
      // has been read to its end the connection is clean again and can be kept alive.
      if (drained) reply.removeHeader('connection');
      else void reply.header('connection', 'close');
      done(null, payload);
    };
    const onData = (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > maxBytes) {
        raw.pause();
        finish(false);
      }
    };
    const onEnd = () => finish(true);
    const onClose = () => finish(raw.complete);
    raw.on('data', onData);
    raw.once('end', onEnd);
    raw.once('close', onClose);
    raw.resume();
  });
}
