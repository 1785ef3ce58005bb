import http from 'node:http';
import { AddressInfo } from 'node:net';

export interface FakeUpstream {
  url: string;
  close(): Promise<void>;
}

/**
 * A stand-in for a peer service on a free 127.0.0.1 port: GET /healthy answers 200
 * {"status":"ok"} (what the services' readiness checks of their peer look at); every other
 * request goes to `handle` once its body has been read (and dropped).
 */
export async function startFakeUpstream(handle: (req: http.IncomingMessage, res: http.ServerResponse) => void): Promise<FakeUpstream> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.url === '/healthy') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
      handle(req, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
