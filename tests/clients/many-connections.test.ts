// Many connections against service-a: 2,000 idle keep-alive connections held open, then a burst
// of 5,000 new ones at once, while /healthy is asked on a fresh connection every 100 ms, on the
// main port and on the probe port (PROBE_PORT, what the chart's probes use). What must hold: every
// connection gets its answer, no probe fails, memory stays bounded, the process lives. How fast it
// stays is a figure of the bench (`npm run bench -- connections`), not asserted.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connectionFlood, freePort, request, rssMiB, ServiceProcess } from '@meridian/test-kit';

const IDLE = 2000;
const BURST = 5000;

let a: ServiceProcess;
let b: ServiceProcess;
let probePort: number;

before(async () => {
  b = await new ServiceProcess({ folder: 'service-b', name: 'service-b', env: { LOG_LEVEL: 'warn' } }).start();
  // Idle connections must outlive the whole burst, so the keep-alive limit is raised here; with the
  // default (5 s) the server would close them itself, which is the point of the limit.
  probePort = await freePort();
  a = await new ServiceProcess({
    folder: 'service-a',
    name: 'service-a',
    env: { SERVICE_B_URL: b.url, LOG_LEVEL: 'warn', HTTP_KEEPALIVE_TIMEOUT_MS: '120000', PROBE_PORT: String(probePort) },
  }).start();
});

after(async () => {
  await a?.stop();
  await b?.stop();
});

test(`${IDLE} idle keep-alive connections and a burst of ${BURST} new ones: every answer arrives, /healthy keeps answering, memory stays bounded`, { timeout: 180_000 }, async (t) => {
  const pid = a.pid!;
  const r = await connectionFlood({ port: a.port, probePort, idle: IDLE, burst: BURST, timeoutMs: 30_000, sample: async () => rssMiB(pid) });
  const max = (xs: number[]) => Math.max(...xs).toFixed(0);
  const [rssBefore, ...rest] = r.samples;
  const peak = Math.max(...rest);
  t.diagnostic(
    `idle ${r.idleOpened}/${IDLE} opened, ${r.idleStillOpen} still open after the burst; burst ${r.burstOk}/${BURST} answered 200 in ${(r.burstMs / 1000).toFixed(1)} s ` +
      `(failures ${JSON.stringify(r.burstErrors)}); /healthy probes on new connections ${r.probeMs.length}, failed ${r.probeFailed}, slowest ${max(r.probeMs)} ms; ` +
      `on a kept connection ${r.keptProbeMs.length}, failed ${r.keptProbeFailed}, slowest ${max(r.keptProbeMs)} ms; ` +
      `on the probe port ${r.probePortMs.length}, failed ${r.probePortFailed}, slowest ${max(r.probePortMs)} ms; ` +
      `service-a RSS ${rssBefore.toFixed(0)} MiB before, peak ${peak.toFixed(0)} MiB, ${r.samples.at(-1)!.toFixed(0)} MiB after`,
  );
  assert.equal(r.idleOpened, IDLE, 'every idle connection was answered');
  assert.equal(r.idleStillOpen, IDLE, 'and stayed open (the server keeps what it accepted)');
  assert.equal(r.burstOk, BURST, `every burst connection was answered 200: failures ${JSON.stringify(r.burstErrors)}`);
  assert.ok(r.probeMs.length > 0, 'the probe ran during the burst');
  assert.equal(r.probeFailed, 0, 'no /healthy probe on a new connection failed during the burst');
  assert.equal(r.keptProbeFailed, 0, 'nor on the kept connection');
  assert.ok(r.probePortMs.length > 0, 'the probe port was probed during the burst');
  assert.equal(r.probePortFailed, 0, 'nor on the probe port');
  // A bound on growth, not a speed figure: 7,000 connections must not cost unbounded memory.
  assert.ok(peak - rssBefore < 400, `RSS grew ${(peak - rssBefore).toFixed(0)} MiB`);
  assert.equal(a.exitCode, null, 'service-a is still running');
  assert.equal((await request(`${a.url}/healthy`)).status, 200);
});

test('the probe port answers /healthy and /ready from the same app, and nothing else', async () => {
  const probes = `http://127.0.0.1:${probePort}`;
  const healthy = await request(`${probes}/healthy`);
  assert.equal(healthy.status, 200);
  assert.equal((healthy.json as { status: string }).status, 'ok');
  const ready = await request(`${probes}/ready?verbose=1`);
  assert.equal(ready.status, 200);
  assert.ok('service-b' in ((ready.json as { info: object }).info ?? {}), `readiness checks service-b as on the main port: ${ready.text}`);
  for (const path of ['/', '/metrics', '/hash', '/healthyx']) {
    const other = await request(`${probes}${path}`);
    assert.equal(other.status, 404, `${path} on the probe port`);
    assert.match(other.headers.get('content-type') ?? '', /^application\/problem\+json/);
  }
});
