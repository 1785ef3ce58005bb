import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { assertProblem, freePort, newTraceparent, parsePrometheus, request, ServiceProcess } from '@meridian/test-kit';

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest();

describe('service-a with service-b', () => {
  const b = new ServiceProcess({ folder: 'service-b', name: 'service-b' });
  let a: ServiceProcess;

  before(async () => {
    await b.start();
    a = await new ServiceProcess({
      folder: 'service-a',
      name: 'service-a',
      env: { SERVICE_B_URL: b.url, LOG_LEVEL: 'info', EXAMPLE_MAX_MS: '200' },
    }).start();
  });
  after(async () => {
    await a?.stop();
    await b.stop();
  });

  test('GET / answers status and links', async () => {
    const res = await request(a.url + '/');
    assert.equal(res.status, 200);
    assert.equal(res.json.service, 'service-a');
    assert.equal(res.json.links.callServiceB, '/call-service-b');
  });

  test('/healthy and /ready answer 200 when service-b is up', async () => {
    assert.equal((await request(a.url + '/healthy')).status, 200);
    const ready = await request(a.url + '/ready');
    assert.equal(ready.status, 200);
    assert.equal(ready.json.details['service-b'].status, 'up');
  });

  test('/serverError answers 500 problem+json on purpose', async () => {
    assertProblem(await request(a.url + '/serverError'), 500, 'intentional-server-error');
  });

  test('/notFound answers 404 problem+json; an unknown path too', async () => {
    assertProblem(await request(a.url + '/notFound'), 404, 'intentional-not-found');
    assertProblem(await request(a.url + '/no/such/route'), 404, 'not-found');
  });

  test('/crash is refused with 403 when crash faults are not enabled, and the process lives on', async () => {
    assertProblem(await request(a.url + '/crash'), 403, 'crash-disabled');
    assert.equal((await request(a.url + '/healthy')).status, 200);
  });

  test('/logs writes one structured line per enabled level, inside the request trace', async () => {
    const { traceparent, traceId } = newTraceparent();
    const res = await request(a.url + '/logs', { headers: { traceparent } });
    assert.equal(res.status, 200);
    assert.deepEqual(res.json.emitted, ['info', 'warn', 'error', 'fatal']);
    assert.deepEqual(res.json.suppressed, ['trace', 'debug']);
    for (const level of ['info', 'warn', 'error', 'fatal']) await a.waitForLog((l) => l.route === '/logs' && l.level === level);
    const lines = a.logs().filter((l) => l.route === '/logs');
    // One line per enabled level; pino flushes fatal lines synchronously, so the order may differ.
    assert.deepEqual(lines.map((l) => String(l.level)).sort(), ['error', 'fatal', 'info', 'warn']);
    for (const line of lines) {
      assert.equal(line.trace_id, traceId, 'log line carries the request trace id');
      assert.match(String(line.span_id), /^[0-9a-f]{16}$/);
      assert.equal(line.service, 'service-a');
    }
  });

  test('every request ends with one "request completed" line carrying its method, url, status and trace id', async () => {
    const { traceparent, traceId } = newTraceparent();
    assert.equal((await request(a.url + '/notFound', { headers: { traceparent } })).status, 404);
    const line = await a.waitForLog((l) => l.msg === 'request completed' && l.trace_id === traceId);
    assert.deepEqual(line.req, { method: 'GET', url: '/notFound' });
    assert.deepEqual(line.res, { statusCode: 404 });
    assert.equal(typeof line.responseTime, 'number');
    assert.equal(a.logs().filter((l) => l.msg === 'request completed' && l.trace_id === traceId).length, 1);
  });

  test('/example runs a task and sets node_gauge_example to its duration', async () => {
    const res = await request(a.url + '/example');
    assert.equal(res.status, 200);
    const metrics = parsePrometheus((await request(a.url + '/metrics')).text);
    const gauge = metrics.find((s) => s.name === 'node_gauge_example');
    assert.ok(gauge, 'node_gauge_example exposed');
    assert.equal(gauge.value, res.json.durationSeconds);
  });

  test('/call-service-b returns service-b data, in one trace across both services logs', async () => {
    const { traceparent, traceId } = newTraceparent();
    const res = await request(a.url + '/call-service-b', { headers: { traceparent } });
    assert.equal(res.status, 200);
    assert.equal(res.json.from, 'service-b');
    assert.equal(res.json.data.service, 'service-b');
    assert.equal(res.json.data.items.length, 3);
    await a.waitForLog((l) => l.msg === 'called service-b' && l.trace_id === traceId);
    await b.waitForLog((l) => l.msg === 'serving data' && l.trace_id === traceId);
  });

  describe('POST /hash', () => {
    test('JSON body: SHA-256 hex digest and the algorithm', async () => {
      const res = await request(a.url + '/hash', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ data: 'hello' }),
      });
      assert.equal(res.status, 200);
      assert.deepEqual(res.json, { algorithm: 'sha256', iterations: 1, digest: sha256('hello').toString('hex') });
    });

    test('form body with iterations hashes the previous digest each round', async () => {
      const res = await request(a.url + '/hash', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'data=hello%20world&iterations=3',
      });
      assert.equal(res.status, 200);
      const expected = sha256(sha256(sha256('hello world'))).toString('hex');
      assert.equal(res.json.digest, expected);
      assert.equal(res.json.iterations, 3);
    });

    const bad: [string, string, string, number, string][] = [
      ['missing data', 'application/json', '{}', 400, 'validation-error'],
      ['data not a string', 'application/json', '{"data":5}', 400, 'validation-error'],
      ['iterations zero', 'application/json', '{"data":"x","iterations":0}', 400, 'validation-error'],
      ['iterations above the bound', 'application/json', '{"data":"x","iterations":100000001}', 400, 'validation-error'],
      ['iterations not an integer', 'application/json', '{"data":"x","iterations":1.5}', 400, 'validation-error'],
      ['iterations not a number (form)', 'application/x-www-form-urlencoded', 'data=x&iterations=abc', 400, 'validation-error'],
      ['unknown field', 'application/json', '{"data":"x","admin":true}', 400, 'validation-error'],
      ['JSON null', 'application/json', 'null', 400, 'validation-error'],
      ['invalid JSON', 'application/json', '{"data":', 400, 'bad-request'],
      ['text/plain', 'text/plain', 'data=x', 415, 'unsupported-media-type'],
      ['data too long', 'application/json', JSON.stringify({ data: 'x'.repeat(65_537) }), 400, 'validation-error'],
      ['body over the limit', 'application/json', JSON.stringify({ data: 'x'.repeat(200_000) }), 413, 'payload-too-large'],
    ];
    for (const [name, type, body, status, slug] of bad) {
      test(`bad input: ${name} → ${status} problem+json`, async () => {
        assertProblem(await request(a.url + '/hash', { method: 'POST', headers: { 'content-type': type }, body }), status, slug);
      });
    }

    test('no body at all → 415 problem+json', async () => {
      assertProblem(await request(a.url + '/hash', { method: 'POST' }), 415, 'unsupported-media-type');
    });
  });

  test('/metrics exposes the contract series with route templates and status codes', async () => {
    await request(a.url + '/call-service-b');
    await request(a.url + '/serverError');
    const text = (await request(a.url + '/metrics')).text;
    const samples = parsePrometheus(text);
    const find = (name: string, labels: Record<string, string>) =>
      samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
    assert.ok(find('http_requests_total', { method: 'GET', route: '/call-service-b', status_code: '200' })!.value >= 1);
    assert.ok(find('http_requests_total', { method: 'GET', route: '/serverError', status_code: '500' })!.value >= 1);
    assert.ok(find('http_requests_total', { method: 'POST', route: '/hash', status_code: '400' }), 'errors counted per status');
    assert.ok(find('http_requests_total', { method: 'GET', route: 'unmatched', status_code: '404' }), 'unknown paths share one label');
    assert.ok(find('http_request_duration_seconds_bucket', { route: '/call-service-b', le: '+Inf' }), 'histogram');
    assert.ok(find('http_request_duration_summary_seconds', { route: '/call-service-b', quantile: '0.99' }), 'summary');
    assert.ok(find('process_cpu_user_seconds_total', {}), 'default process metrics');
    assert.ok(find('nodejs_eventloop_lag_seconds', {}), 'default Node.js metrics');
    assert.ok(!samples.some((s) => s.name === 'http_requests_total' && ['/metrics', '/healthy', '/ready'].includes(s.labels.route)), 'probes and scrapes are not counted');
    assert.match(text, /# TYPE http_request_duration_seconds histogram/);
    assert.match(text, /# TYPE http_request_duration_summary_seconds summary/);
  });
});

describe('service-a without service-b', () => {
  let a: ServiceProcess;
  before(async () => {
    const closed = await freePort();
    a = await new ServiceProcess({
      folder: 'service-a',
      name: 'service-a',
      readyPath: '/healthy',
      env: { SERVICE_B_URL: `http://127.0.0.1:${closed}`, SERVICE_B_TIMEOUT_MS: '500' },
    }).start();
  });
  after(() => a?.stop());

  test('/ready answers 503 problem+json naming service-b; /healthy stays 200', async () => {
    const res = await request(a.url + '/ready');
    assertProblem(res, 503, 'not-ready');
    assert.equal(res.json.checks['service-b'].status, 'down');
    assert.equal((await request(a.url + '/healthy')).status, 200);
  });

  test('/call-service-b answers 502 problem+json quickly, never hangs', async () => {
    const started = Date.now();
    const res = await request(a.url + '/call-service-b', {}, 5000);
    assertProblem(res, 502, 'upstream-unavailable');
    assert.ok(Date.now() - started < 5000);
  });
});

describe('service-a crash fault enabled', () => {
  test('/crash answers 202, then the process exits with code 1', async () => {
    const a = await new ServiceProcess({
      folder: 'service-a',
      name: 'service-a',
      readyPath: '/healthy',
      env: { CRASH_ENABLED: 'true' },
    }).start();
    try {
      const res = await request(a.url + '/crash');
      assert.equal(res.status, 202);
      assert.equal(res.json.crashing, true);
      assert.equal(await a.waitExit(5000), 1);
    } finally {
      await a.stop();
    }
  });
});

describe('service-a configuration', () => {
  for (const [name, value] of [
    ['SERVICE_B_URL', 'not a url'],
    ['PORT', '70000'],
    ['CRASH_ENABLED', 'maybe'],
    ['HASH_MAX_ITERATIONS', '0'],
  ]) {
    test(`a bad ${name} stops the service with one line naming it`, async () => {
      const p = new ServiceProcess({ folder: 'service-a', name: 'service-a', env: { [name]: value } });
      await assert.rejects(p.start(5000), /exited with 1/);
      const err = p.stderr.join('\n');
      assert.equal(p.stderr.length, 1, `one line, got: ${err}`);
      assert.match(err, new RegExp(`^service-a: invalid configuration: ${name} `));
    });
  }
});
