// HttpClient against a real node:http peer on a free loopback port: bodies both ways, baseURL's
// path, the time budget, the answer size bound, retries of idempotent calls only, and the problem
// each failure becomes. The services' own tests cover it end to end (service-b dying under load,
// the ensemble's members going down, the edge's upstream).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpClient } from '../src/http-client';
import { ProblemException } from '../src/problem';

type Handler = (req: IncomingMessage, body: Buffer, res: ServerResponse) => void;
const routes = new Map<string, Handler>();
const hits = new Map<string, number>();
let server: http.Server;
let base: string;
const clients: HttpClient[] = [];

before(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '/';
      hits.set(path, (hits.get(path) ?? 0) + 1);
      const handler = routes.get(path);
      if (handler) handler(req, Buffer.concat(chunks), res);
      else res.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  for (const c of clients) c.close();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function client(options: Partial<ConstructorParameters<typeof HttpClient>[0]> = {}): HttpClient {
  const c = new HttpClient({ peer: 'peer', baseURL: base, timeoutMs: 1000, breaker: false, ...options });
  clients.push(c);
  return c;
}

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) =>
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers }).end(JSON.stringify(body));

/** The problem a call failed with (it must fail with one). */
async function problemOf(call: Promise<unknown>): Promise<{ status: number; type: string; detail: string }> {
  const err = await call.then(
    () => assert.fail('the call succeeded'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof ProblemException, `not a problem: ${String(err)}`);
  const body = err.getResponse() as { type: string; detail: string };
  return { status: err.getStatus(), type: body.type, detail: body.detail };
}

test('a GET answers the JSON body parsed, its status and its headers; the path is appended to baseURL\'s', async () => {
  routes.set('/api/data', (_req, _body, res) => json(res, 200, { hello: 'world' }, { 'x-answer': '42' }));
  const res = await client({ baseURL: `${base}/api/` }).get<{ hello: string }>('/data');
  assert.equal(res.status, 200);
  assert.deepEqual(res.data, { hello: 'world' });
  assert.equal(res.headers['x-answer'], '42');
});

test('a POST sends a Buffer as it is and anything else as JSON; a non-JSON answer comes back as text', async () => {
  routes.set('/echo', (req, body, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end(`${req.headers['content-type']} ${body.toString('hex')}`));
  const c = client();
  const bytes = Buffer.from([0, 1, 2, 254, 255]);
  assert.equal((await c.post<string>('/echo', bytes, { headers: { 'content-type': 'application/octet-stream' } })).data, 'application/octet-stream 000102feff');
  assert.equal((await c.post<string>('/echo', { a: 1 })).data, `application/json ${Buffer.from('{"a":1}').toString('hex')}`);
});

test('a peer slower than the budget: 504 upstream-timeout within about the budget', async () => {
  routes.set('/slow', (_req, _body, res) => setTimeout(() => json(res, 200, {}), 2000).unref());
  const started = Date.now();
  const p = await problemOf(client({ timeoutMs: 300 }).get('/slow'));
  const took = Date.now() - started;
  assert.equal(p.status, 504);
  assert.match(p.type, /upstream-timeout$/);
  assert.match(p.detail, /peer did not answer within 300 ms/);
  assert.ok(took < 1500, `took ${took} ms`);
});

test('an answer over maxResponseBytes: 502, not retried', async () => {
  routes.set('/big', (_req, _body, res) => res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(Buffer.alloc(64 * 1024)));
  hits.delete('/big');
  const p = await problemOf(client({ maxResponseBytes: 1024 }).get('/big'));
  assert.equal(p.status, 502);
  assert.match(p.detail, /peer answered more than allowed/);
  assert.equal(hits.get('/big'), 1);
});

test('a 503 is retried for a GET, and answered at once for a POST that is not idempotent', async () => {
  let n = 0;
  routes.set('/flaky', (_req, _body, res) => (n++ % 2 === 0 ? json(res, 503, { title: 'busy' }) : json(res, 200, { ok: true })));
  const c = client({ retries: 2 });
  assert.deepEqual((await c.get('/flaky')).data, { ok: true });
  hits.delete('/flaky');
  n = 0;
  const p = await problemOf(c.post('/flaky', {}));
  assert.equal(p.status, 502);
  assert.match(p.detail, /peer answered 503/);
  assert.equal(hits.get('/flaky'), 1, 'the POST was sent once');
  assert.deepEqual((await c.post('/flaky', {}, { idempotent: true })).data, { ok: true }, 'an idempotent POST is retried');
});

test('an unreachable peer: 502 upstream-unavailable naming the error', async () => {
  const closed = http.createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const port = (closed.address() as AddressInfo).port;
  await new Promise((resolve) => closed.close(resolve));
  const p = await problemOf(client({ baseURL: `http://127.0.0.1:${port}`, retries: 1 }).get('/x'));
  assert.equal(p.status, 502);
  assert.match(p.type, /upstream-unavailable$/);
  assert.match(p.detail, /peer is unreachable \(ECONNREFUSED\)/);
});

test('with HTTP_PROXY set, the calls go through that proxy', async () => {
  const proxy = http.createServer((req, res) => json(res, 200, { proxied: req.url }));
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const saved = process.env.HTTP_PROXY;
  process.env.HTTP_PROXY = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  try {
    const c = client({ baseURL: 'http://peer.invalid:8081' });
    assert.deepEqual((await c.get('/data')).data, { proxied: 'http://peer.invalid:8081/data' });
  } finally {
    if (saved === undefined) delete process.env.HTTP_PROXY;
    else process.env.HTTP_PROXY = saved;
    proxy.closeAllConnections();
    await new Promise((resolve) => proxy.close(resolve));
  }
});
