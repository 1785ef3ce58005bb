// Real clients (Python urllib and requests, curl, k6, fetch) and raw sockets against hostile and careless requests.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { assertProblem, freePort, REPO_ROOT, request, runTool, ServiceProcess } from '@meridian/test-kit';

const run = promisify(execFile);

// Short limits so the slow-client cases take seconds; the defaults are listed in the README.
const HEADERS_MS = 1500;
const REQUEST_MS = 3000;
const KEEPALIVE_MS = 1000;
// What the limits may overshoot by: Node checks its connections every headers/4 ms, plus a machine
// busy with the other test files (image builds, load). Without the limits the connections stayed
// open for Node's own 30 s check interval and longer, far past any of these bounds.
const SLACK_MS = 4000;
const MiB = 1024 * 1024;

interface RawResult {
  /** Everything the server sent before it closed (or before the wait ended). */
  text: string;
  /** Milliseconds from connecting to the server closing the connection; undefined if it stayed open. */
  closedAfterMs?: number;
}

/** Opens a TCP connection, lets `drive` write to it, and collects what comes back until close or `waitMs`. */
function rawExchange(port: number, drive: (socket: Socket) => void, waitMs: number): Promise<RawResult> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = connect(port, '127.0.0.1');
    let text = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ text });
    }, waitMs);
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => (text += d));
    socket.on('error', () => undefined); // a reset shows as a close; the text says what was read
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ text, closedAfterMs: Date.now() - started });
    });
    socket.once('connect', () => {
      try {
        drive(socket);
      } catch (err) {
        reject(err);
      }
    });
  });
}

const statusOf = (text: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
const statusesOf = (text: string) => [...text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));

async function pythonPost(client: 'urllib' | 'requests', url: string, contentType: string, bytes: number) {
  const script = path.join(REPO_ROOT, 'tests/clients/post_body.py');
  const { stdout } = await run('python3', [script, client, url, contentType, String(bytes)], { timeout: 60_000 });
  return JSON.parse(stdout) as { status?: number; content_type?: string; body?: string; error?: string };
}

describe('hostile and careless clients', () => {
  const limits = {
    HTTP_HEADERS_TIMEOUT_MS: String(HEADERS_MS),
    HTTP_REQUEST_TIMEOUT_MS: String(REQUEST_MS),
    HTTP_KEEPALIVE_TIMEOUT_MS: String(KEEPALIVE_MS),
  };
  // Neither needs its peer for these cases: liveness is what is waited for and checked.
  const a = new ServiceProcess({ folder: 'service-a', name: 'service-a', readyPath: '/healthy', telemetry: false, env: limits });
  const edge = new ServiceProcess({ folder: 'preprocessing-edge', name: 'preprocessing-edge', readyPath: '/healthy', telemetry: false, env: limits });

  before(async () => {
    await Promise.all([a.start(), edge.start()]);
  });
  after(async () => {
    await Promise.all([a.stop(), edge.stop()]);
  });

  const stillHealthy = async (svc: ServiceProcess) => {
    assert.equal((await request(svc.url + '/healthy', {}, 2000)).status, 200, `${svc.spec.name} /healthy after the case`);
    assert.equal(svc.exitCode, null, `${svc.spec.name} is still running`);
  };

  describe('a refused body reaches the client as an answer', () => {
    for (const client of ['urllib', 'requests'] as const) {
      test(`Python ${client}: 30 MiB image to /preprocessing reads 413 problem+json`, async () => {
        const res = await pythonPost(client, edge.url + '/preprocessing', 'image/jpeg', 30 * MiB);
        assert.equal(res.error, undefined, `the client saw an error instead of the answer: ${res.error}`);
        assert.equal(res.status, 413);
        assert.match(res.content_type ?? '', /application\/problem\+json/);
        assert.equal(JSON.parse(res.body ?? '{}').type, 'urn:meridian:problem:payload-too-large');
        await stillHealthy(edge);
      });

      test(`Python ${client}: 4 MiB of JSON to POST /hash reads 413`, async () => {
        const res = await pythonPost(client, a.url + '/hash', 'application/json', 4 * MiB);
        assert.equal(res.error, undefined, `the client saw an error instead of the answer: ${res.error}`);
        assert.equal(res.status, 413);
        await stillHealthy(a);
      });

      test(`Python ${client}: 2 MiB of an unaccepted type to /preprocessing reads 415`, async () => {
        const res = await pythonPost(client, edge.url + '/preprocessing', 'application/x-unknown', 2 * MiB);
        assert.equal(res.error, undefined, `the client saw an error instead of the answer: ${res.error}`);
        assert.equal(res.status, 415);
        await stillHealthy(edge);
      });
    }

    test('curl without Expect: 100-continue reads the 413', async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'meridian-curl-'));
      try {
        const file = path.join(dir, 'big.png');
        writeFileSync(file, Buffer.alloc(30 * MiB));
        const { stdout } = await run(
          'curl',
          ['-sS', '-o', '/dev/null', '-w', '%{http_code}', '-H', 'Expect:', '-H', 'content-type: image/png', '--data-binary', `@${file}`, edge.url + '/preprocessing'],
          { timeout: 30_000 },
        ).catch((err: { stdout?: string; stderr?: string }) => ({ stdout: `curl failed: ${err.stderr}` }));
        assert.equal(stdout, '413');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    test('k6 (Go net/http): 30 MiB to /preprocessing, 4 MiB to /hash and a gzip body read as problem+json, three times over', async (t) => {
      const summary = path.join(mkdtempSync(path.join(tmpdir(), 'meridian-k6-')), 'summary.json');
      try {
        const r = await runTool(
          'k6',
          ['run', '--quiet', '--no-usage-report', '--summary-export', summary, '-e', `EDGE_URL=${edge.url}`, '-e', `SERVICE_A_URL=${a.url}`, path.join(REPO_ROOT, 'tests/clients/refused-bodies.k6.js')],
          { timeoutMs: 120_000 },
        );
        assert.equal(r.code, 0, `k6 exits 0 when every check passes:\n${r.output.slice(-3000)}`);
        const checks = (JSON.parse(readFileSync(summary, 'utf8')) as { metrics: { checks: { passes: number; fails: number } } }).metrics.checks;
        t.diagnostic(`k6 checks: ${checks.passes} passed, ${checks.fails} failed`);
        assert.equal(checks.fails, 0);
        assert.equal(checks.passes, 3 * 10, 'ten checks in each of three iterations');
      } finally {
        rmSync(path.dirname(summary), { recursive: true, force: true });
      }
      await stillHealthy(a);
      await stillHealthy(edge);
    });

    test("Node's fetch: 20 MiB to /preprocessing reads 413, then the next request on a new connection works", async () => {
      const res = await request(edge.url + '/preprocessing', { method: 'POST', headers: { 'content-type': 'image/webp' }, body: Buffer.alloc(20 * MiB) });
      assertProblem(res, 413, 'payload-too-large');
      await stillHealthy(edge);
    });

    test('the connection stays usable after a drained refusal (keep-alive)', async () => {
      const big = Buffer.alloc(256 * 1024);
      const result = await rawExchange(
        a.port,
        (s) => {
          s.write(`POST /hash HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${big.length}\r\n\r\n`);
          s.write(big);
          s.write('GET /healthy HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
        },
        10_000,
      );
      assert.deepEqual(statusesOf(result.text), [413, 200]);
    });

    test('a body past HTTP_DISCARD_MAX_BYTES is not read for ever: the answer is sent and the connection closed', async () => {
      const svc = new ServiceProcess({ folder: 'service-a', name: 'service-a', readyPath: '/healthy', telemetry: false, env: { HTTP_DISCARD_MAX_BYTES: String(MiB) } });
      await svc.start();
      try {
        const chunk = Buffer.alloc(64 * 1024);
        const result = await rawExchange(
          svc.port,
          (s) => {
            s.write(`POST /hash HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${64 * MiB}\r\n\r\n`);
            const pump = () => {
              while (!s.destroyed && s.write(chunk));
            };
            s.on('drain', pump);
            pump();
          },
          15_000,
        );
        assert.equal(statusOf(result.text), 413);
        assert.match(result.text, /connection: close/i);
        assert.ok(result.closedAfterMs !== undefined, 'the server closed the connection');
        await stillHealthy(svc);
      } finally {
        await svc.stop();
      }
    });
  });

  describe('slow clients are cut off', () => {
    test(`headers sent one line at a time are cut off at HTTP_HEADERS_TIMEOUT_MS (${HEADERS_MS} ms)`, async () => {
      let timer: NodeJS.Timeout | undefined;
      const result = await rawExchange(
        a.port,
        (s) => {
          s.write('GET /healthy HTTP/1.1\r\n');
          let i = 0;
          timer = setInterval(() => !s.destroyed && s.write(`X-Slow-${i++}: 1\r\n`), 200);
        },
        HEADERS_MS + 10_000,
      );
      clearInterval(timer);
      assert.ok(result.closedAfterMs !== undefined, 'the connection was never closed');
      assert.ok(result.closedAfterMs <= HEADERS_MS + SLACK_MS, `closed after ${result.closedAfterMs} ms`);
      assert.ok([0, 408].includes(statusOf(result.text)), `answer: ${result.text.slice(0, 80)}`);
      console.log(`slow headers: closed after ${result.closedAfterMs} ms (limit ${HEADERS_MS} ms), answer ${statusOf(result.text) || 'none'}`);
      await stillHealthy(a);
    });

    test(`a body that never finishes is cut off at HTTP_REQUEST_TIMEOUT_MS (${REQUEST_MS} ms)`, async () => {
      const result = await rawExchange(
        a.port,
        (s) => s.write('POST /hash HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"data":'),
        REQUEST_MS + 10_000,
      );
      assert.ok(result.closedAfterMs !== undefined, 'the connection was never closed');
      assert.ok(result.closedAfterMs <= REQUEST_MS + SLACK_MS, `closed after ${result.closedAfterMs} ms`);
      assert.ok(result.closedAfterMs >= HEADERS_MS, `closed too early, after ${result.closedAfterMs} ms`);
      console.log(`unfinished body: closed after ${result.closedAfterMs} ms (limit ${REQUEST_MS} ms), answer ${statusOf(result.text) || 'none'}`);
      await stillHealthy(a);
    });

    test(`an idle keep-alive connection is closed after HTTP_KEEPALIVE_TIMEOUT_MS (${KEEPALIVE_MS} ms)`, async () => {
      const result = await rawExchange(a.port, (s) => s.write('GET /healthy HTTP/1.1\r\nHost: x\r\n\r\n'), KEEPALIVE_MS + 10_000);
      assert.equal(statusOf(result.text), 200);
      assert.ok(result.closedAfterMs !== undefined, 'the idle connection was never closed');
      assert.ok(result.closedAfterMs <= KEEPALIVE_MS + SLACK_MS, `closed after ${result.closedAfterMs} ms`);
    });
  });

  describe('malformed requests get an answer or a closed connection, and the service lives on', () => {
    test('oversized headers: 431', async () => {
      const result = await rawExchange(a.port, (s) => s.write(`GET /healthy HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`), 5000);
      assert.equal(statusOf(result.text), 431);
      await stillHealthy(a);
    });

    test('pipelining: three requests in one write get three answers in order', async () => {
      const result = await rawExchange(
        a.port,
        (s) => s.write('GET /healthy HTTP/1.1\r\nHost: x\r\n\r\nGET /notFound HTTP/1.1\r\nHost: x\r\n\r\nGET /healthy HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'),
        5000,
      );
      assert.deepEqual(statusesOf(result.text), [200, 404, 200]);
    });

    test('Content-Length with Transfer-Encoding (request smuggling): 400 and the smuggled request is not served', async () => {
      const smuggled = 'GET /crash HTTP/1.1\r\nHost: x\r\n\r\n';
      const body = `0\r\n\r\n${smuggled}`;
      const result = await rawExchange(
        a.port,
        (s) => s.write(`POST /hash HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nTransfer-Encoding: chunked\r\n\r\n${body}`),
        5000,
      );
      assert.deepEqual(statusesOf(result.text), [400]);
      await stillHealthy(a);
    });

    test('a truncated body (client half-closes early) leaves the service healthy', async () => {
      const result = await rawExchange(
        a.port,
        (s) => s.end('POST /hash HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"data":"abc"'),
        REQUEST_MS + 10_000,
      );
      assert.ok(result.closedAfterMs !== undefined, 'the connection was never closed');
      assert.ok([0, 400, 408].includes(statusOf(result.text)), `answer: ${result.text.slice(0, 80)}`);
      await stillHealthy(a);
    });

    test('a gzip body on POST /hash: 415 naming the accepted coding, not "invalid JSON"', async () => {
      const res = await request(a.url + '/hash', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
        body: gzipSync(JSON.stringify({ data: 'x' })),
      });
      assertProblem(res, 415, 'unsupported-content-encoding');
      assert.equal(res.headers.get('accept-encoding'), 'identity');
      assert.deepEqual(res.json.accepted, ['identity']);
      const plain = await request(a.url + '/hash', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-encoding': 'identity' },
        body: JSON.stringify({ data: 'x' }),
      });
      assert.equal(plain.status, 200, 'identity is accepted');
    });
  });

  test('a stdout nobody reads blocks neither requests nor SIGTERM', async () => {
    const port = await freePort();
    const shutdownMs = 3000;
    const child = spawn(process.execPath, [path.join(REPO_ROOT, 'services/service-a/dist/src/main.js')], {
      env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: String(port), OTEL_TRACES_EXPORTER: 'none', SHUTDOWN_TIMEOUT_MS: String(shutdownMs) },
      // stdout is a pipe this test never reads: it fills after 64 KiB, as behind a stuck log shipper.
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      child.stdout!.pause();
      const url = `http://127.0.0.1:${port}`;
      for (let i = 0; i < 100 && !(await request(url + '/healthy', {}, 500).then((r) => r.status === 200, () => false)); i++) await new Promise((r) => setTimeout(r, 100));
      // /logs writes one line per level, fatal included: ~2 MB of lines, far more than the pipe holds.
      for (let i = 0; i < 1000; i++) assert.equal((await request(url + '/logs', {}, 2000)).status, 200);
      assert.equal((await request(url + '/healthy', {}, 1000)).status, 200);
      const started = Date.now();
      child.kill('SIGTERM');
      const code = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r('still running'), shutdownMs + 2000))]);
      console.log(`stuck stdout: exited ${code} ${Date.now() - started} ms after SIGTERM (bound ${shutdownMs} ms)`);
      assert.equal(code, 0);
    } finally {
      child.kill('SIGKILL');
    }
  });

  test('a headers limit longer than the request limit, or a limit that is not a number, stops the service with one line', () => {
    const main = path.join(REPO_ROOT, 'services/service-a/dist/src/main.js');
    const cases: [Record<string, string>, RegExp][] = [
      [{ HTTP_HEADERS_TIMEOUT_MS: '20000', HTTP_REQUEST_TIMEOUT_MS: '10000' }, /HTTP_HEADERS_TIMEOUT_MS \(20000\) must not be larger than HTTP_REQUEST_TIMEOUT_MS \(10000\)/],
      [{ HTTP_KEEPALIVE_TIMEOUT_MS: 'soon' }, /HTTP_KEEPALIVE_TIMEOUT_MS must be an integer/],
    ];
    for (const [env, message] of cases) {
      const res = spawnSync(process.execPath, [main], { env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: '1', OTEL_TRACES_EXPORTER: 'none', ...env }, encoding: 'utf8', timeout: 20_000 });
      assert.equal(res.status, 1, res.stderr);
      assert.match(res.stderr, message);
      assert.equal(res.stderr.trim().split('\n').length, 1, res.stderr);
    }
  });
});
