import { createServer, type IncomingMessage, type Server, type ServerOptions, type ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { problem } from './problem';

/** What the probe port answers; anything else there is a 404. */
export const PROBE_PATHS: ReadonlySet<string> = new Set(['/healthy', '/ready']);

type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * The probe listener (PROBE_PORT): a node:http server of its own, so its accept queue stays empty
 * when the main port's is full, whose requests go to the same Fastify app (the same handlers, hooks,
 * readiness state and metrics) through the app's own request handler. Only PROBE_PATHS are passed on.
 */
export async function listenForProbes(fastify: FastifyInstance, host: string, port: number, options: ServerOptions): Promise<Server> {
  const handlers = fastify.server.listeners('request') as RequestHandler[];
  if (handlers.length !== 1) throw new Error(`the app's server has ${handlers.length} request handlers, expected 1`);
  const [app] = handlers;
  const server = createServer(options, (req, res) => {
    const path = (req.url ?? '/').split('?', 1)[0];
    if (PROBE_PATHS.has(path)) return app(req, res);
    const body = problem(404, `the probe port answers only ${[...PROBE_PATHS].join(' and ')}`, 'not-found');
    res.writeHead(404, { 'content-type': 'application/problem+json; charset=utf-8' }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}

/** Stops accepting, then ends the probe connections (a kubelet's keep-alive one included). */
export async function closeProbes(server: Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  server.closeAllConnections();
  await closed;
}
