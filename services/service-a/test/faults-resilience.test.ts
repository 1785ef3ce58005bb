import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertProblem, type FakeUpstream, freePort, parsePrometheus, request, ServiceProcess, startFakeUpstream } from '@meridian/test-kit';

const TIMEOUT_MS = 1000;
const HALF_OPEN_MS = 2000;

async function breakerState(url: string): Promise<number | undefined> {
  const samples = parsePrometheus((await request(url + '/metrics')).text);
  return samples.find((s) => s.name === 'circuit_breaker_state' && s.labels.peer === 'service-b')?.value;
}

interface Outcome {
  status: number;
  ms: number;
  type?: string;
  retryAfter?: string | null;
}

/** Callers in a loop until stopped; every answer with its time. A hung request fails the test. */
function load(url: string, callers: number) {
  const outcomes: Outcome[] = [];
  let running = true;
  const loops = Array.from({ length: callers }, async () => {
    while (running) {
      const started = Date.now();
      const res = await request(url, {}, 5000);
      outcomes.push({ status: res.status, ms: Date.now() - started, type: res.json?.type, retryAfter: res.headers.get('retry-after') });
      await new Promise((r) => setTimeout(r, 20));
    }
  });
  return {
    outcomes,
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

describe('service-a when service-b dies under load', { timeout: 90_000 }, () => {
  let port: number;
  let b: ServiceProcess;
  let a: ServiceProcess;

  before(async () => {
    port = await freePort();
    b = await new ServiceProcess({ folder: 'service-b', name: 'service-b', env: { PORT: String(port), LOG_LEVEL: 'warn' } }).start();
    a = await new ServiceProcess({
      folder: 'service-a',
      name: 'service-a',
      env: {
        SERVICE_B_URL: b.url,
        SERVICE_B_TIMEOUT_MS: String(TIMEOUT_MS),
        HTTP_BREAKER_HALF_OPEN_MS: String(HALF_OPEN_MS),
        LOG_LEVEL: 'warn',
      },
    }).start();
  });

  after(async () => {
    await a?.stop();
    await b?.stop();
  });

  test('answers 502/503 within its timeout, opens the breaker (503 + Retry-After), and recovers once service-b is back', async () => {
    assert.equal(await breakerState(a.url), 0, 'closed at start');
    const traffic = load(a.url + '/call-service-b', 4);
    await new Promise((r) => setTimeout(r, 500));
    const killedAt = traffic.outcomes.length;
    await b.stop('SIGKILL');
    await new Promise((r) => setTimeout(r, 1500));
    const openState = await breakerState(a.url);
    const failures = traffic.outcomes.slice(killedAt);

    // service-b back on the same port: the breaker lets a trial call through after HALF_OPEN_MS.
    b = await new ServiceProcess({ folder: 'service-b', name: 'service-b', env: { PORT: String(port), LOG_LEVEL: 'warn' } }).start();
    const restartedAt = Date.now();
    const backAt = traffic.outcomes.length;
    let recoveredMs: number | undefined;
    while (Date.now() - restartedAt < HALF_OPEN_MS + 5000) {
      const recent = traffic.outcomes.slice(backAt);
      if (recent.length >= 4 && recent.slice(-4).every((o) => o.status === 200)) {
        recoveredMs = Date.now() - restartedAt;
        break;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    await traffic.stop();
    if (recoveredMs === undefined) console.log(JSON.stringify(traffic.outcomes.slice(backAt).slice(-12)));

    const ok = traffic.outcomes.slice(0, killedAt);
    assert.ok(ok.length > 0 && ok.every((o) => o.status === 200), 'all 200 before the kill');
    const statuses = [...new Set(failures.map((o) => o.status))].sort();
    console.log(
      `after the kill: ${failures.length} answers, statuses ${statuses.join('/')}, slowest ${Math.max(...failures.map((o) => o.ms))} ms; ` +
        `breaker state ${openState}; calls succeed again ${recoveredMs} ms after service-b restarted`,
    );
    for (const o of failures) {
      assert.ok([200, 502, 503].includes(o.status), `status ${o.status}`);
      assert.ok(o.ms < TIMEOUT_MS + 500, `answered within the timeout (took ${o.ms} ms)`);
    }
    const open = failures.filter((o) => o.type === 'urn:meridian:problem:upstream-circuit-open');
    assert.ok(open.length > 0, 'the breaker opened');
    for (const o of open) {
      assert.equal(o.status, 503);
      const seconds = Number(o.retryAfter);
      assert.ok(Number.isInteger(seconds) && seconds >= 1 && seconds <= HALF_OPEN_MS / 1000, `Retry-After ${o.retryAfter}`);
    }
    assert.equal(openState, 2, 'circuit_breaker_state{peer="service-b"} = 2 while open');
    assert.ok(recoveredMs !== undefined && recoveredMs < HALF_OPEN_MS + 3000, `recovered in ${recoveredMs} ms`);
    assert.equal(await breakerState(a.url), 0, 'closed again');
  });
});

describe('retries of idempotent calls', { timeout: 60_000 }, () => {
  let fake: FakeUpstream;
  let a: ServiceProcess;
  let requests = 0;

  before(async () => {
    // Every other /data request fails as a restarting peer would (503); /healthy always answers.
    fake = await startFakeUpstream((_req, res) => {
      requests += 1;
      if (requests % 2 === 1) return void res.writeHead(503).end();
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ service: 'service-b', items: [], generatedAt: new Date().toISOString() }));
    });
    a = await new ServiceProcess({
      folder: 'service-a',
      name: 'service-a',
      env: { SERVICE_B_URL: fake.url, LOG_LEVEL: 'warn' },
    }).start();
  });

  after(async () => {
    await a?.stop();
    await fake?.close();
  });

  test('a GET that meets a 503 is retried once and succeeds', async () => {
    requests = 0;
    const res = await request(a.url + '/call-service-b');
    assert.equal(res.status, 200, res.text);
    assert.equal(requests, 2, 'one failed attempt, one retry');
  });

  test('with HTTP_RETRIES=0 the same GET fails 502 after one attempt', async () => {
    const strict = await new ServiceProcess({
      folder: 'service-a',
      name: 'service-a',
      env: { SERVICE_B_URL: fake.url, LOG_LEVEL: 'warn', HTTP_RETRIES: '0' },
    }).start();
    try {
      requests = 0;
      assertProblem(await request(strict.url + '/call-service-b'), 502, 'upstream-error');
      assert.equal(requests, 1);
    } finally {
      await strict.stop();
    }
  });
});
