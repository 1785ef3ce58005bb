// The console's server (scripts/local/console-server.cjs) as a real process on a free loopback port,
// with a copy of the repo's flag file: fault switches are validated by the same code as
// `npm run fault`, bad input gets a problem+json answer and leaves the file byte for byte as it was,
// reads go only to the listed backend APIs, and an unreachable backend is a 502 problem, not a crash.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePorts, REPO_ROOT, startProcess, type ToolProcess } from '@meridian/test-kit';

describe('console server', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'meridian-console-'));
  const flagsFile = path.join(dir, 'flags.json');
  let proc: ToolProcess | undefined;
  let base = '';

  before(async () => {
    copyFileSync(path.join(REPO_ROOT, 'observability/flags/flags.json'), flagsFile);
    const [port, closed] = await freePorts(2);
    base = `http://127.0.0.1:${port}`;
    const nowhere = `http://127.0.0.1:${closed}`;
    proc = await startProcess('console', process.execPath, [path.join(REPO_ROOT, 'scripts/local/console-server.cjs')], {
      env: {
        PATH: process.env.PATH ?? '',
        CONSOLE_PORT: String(port),
        FLAGS_FILE: flagsFile,
        JAEGER_URL: nowhere,
        PROMETHEUS_URL: nowhere,
        ALERTMANAGER_URL: nowhere,
        LOGS_URL: nowhere,
        EDGE_URL: nowhere,
        CONSOLE_WEB_DIR: path.join(dir, 'no-web-app'),
      },
      readyUrl: `${base}/healthz`,
    });
  });
  after(async () => {
    await proc?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const put = (p: string, body: string, type = 'application/json') =>
    fetch(`${base}${p}`, { method: 'PUT', headers: { 'content-type': type }, body, signal: AbortSignal.timeout(5000) });

  test('GET /api/faults lists every fault of the file with its symptom and alert', async () => {
    const res = await fetch(`${base}/api/faults`);
    assert.equal(res.status, 200);
    const { faults } = (await res.json()) as { faults: { key: string; on: boolean; symptom: string; alert: string | null }[] };
    const keys = Object.keys(JSON.parse(readFileSync(flagsFile, 'utf8')).flags).sort();
    assert.deepEqual(faults.map((f) => f.key).sort(), keys);
    const errors = faults.find((f) => f.key === 'service-b.error-share');
    assert.equal(errors?.alert, 'HighErrorRatio');
    assert.ok(errors?.symptom);
    assert.ok(faults.every((f) => !f.on), 'all off in the repo file');
  });

  test('a valid switch is written; on with a value, then off', async () => {
    let res = await put('/api/faults/service-b/latency-ms', JSON.stringify({ state: 'on', value: 250 }));
    assert.equal(res.status, 200, await res.clone().text());
    assert.equal(((await res.json()) as { on: boolean }).on, true);
    let flag = JSON.parse(readFileSync(flagsFile, 'utf8')).flags['service-b.latency-ms'];
    assert.deepEqual([flag.defaultVariant, flag.variants.on], ['on', 250]);
    res = await put('/api/faults/service-b/latency-ms', JSON.stringify({ state: 'off' }));
    assert.equal(res.status, 200);
    flag = JSON.parse(readFileSync(flagsFile, 'utf8')).flags['service-b.latency-ms'];
    assert.equal(flag.defaultVariant, 'off');
  });

  test('bad input gets problem+json and leaves the flag file unchanged', async () => {
    const before = readFileSync(flagsFile, 'utf8');
    const cases: [string, string, string | undefined, number, RegExp][] = [
      ['/api/faults/nobody/latency-ms', '{"state":"on"}', undefined, 404, /unknown service/],
      ['/api/faults/service-b/explode', '{"state":"on"}', undefined, 404, /unknown fault/],
      ['/api/faults/service-b/latency-ms', '{"state":"maybe"}', undefined, 400, /state must be on or off/],
      ['/api/faults/service-b/error-share', '{"state":"on","value":7}', undefined, 400, /at most 1/],
      ['/api/faults/service-b/latency-ms', '{"state":"on","value":-5}', undefined, 400, /number >= 0/],
      ['/api/faults/service-b/latency-ms', '{"state":"on","value":"fast"}', undefined, 400, /number >= 0/],
      ['/api/faults/service-b/crash', '{"state":"on","value":3}', undefined, 400, /takes no value/],
      ['/api/faults/service-b/latency-ms', '{"state":"on","extra":1}', undefined, 400, /unknown field/],
      ['/api/faults/service-b/latency-ms', '[1,2]', undefined, 400, /Invalid body/],
      ['/api/faults/service-b/latency-ms', '{not json', undefined, 400, /not valid JSON/],
      ['/api/faults/service-b/latency-ms', '{"state":"on"}', 'text/plain', 415, /application\/json/],
      ['/api/faults/service-b/latency-ms', JSON.stringify({ state: 'on', pad: 'x'.repeat(10_000) }), undefined, 413, /limited/],
    ];
    for (const [p, body, type, status, detail] of cases) {
      const res = await put(p, body, type);
      assert.equal(res.status, status, `${p} ${body.slice(0, 40)}`);
      assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
      const problem = (await res.json()) as { type: string; title: string; status: number; detail: string };
      assert.equal(problem.status, status);
      assert.match(problem.type, /^urn:meridian:problem:/);
      assert.match(`${problem.title}: ${problem.detail}`, detail, `${p} ${body.slice(0, 40)}`);
    }
    assert.equal((await fetch(`${base}/api/faults`, { method: 'DELETE' })).status, 405);
    assert.equal(readFileSync(flagsFile, 'utf8'), before, 'the flag file is byte for byte what it was');
  });

  test('reads: only the listed backend APIs, GET only; an unreachable backend is a 502 problem', async () => {
    for (const p of ['/api/jaeger/admin', '/api/prometheus/admin/tsdb/delete_series', '/api/alertmanager/silences', '/api/nothing']) {
      const res = await fetch(`${base}${p}`);
      assert.equal(res.status, 404, p);
      assert.match(res.headers.get('content-type') ?? '', /problem\+json/);
    }
    assert.equal((await fetch(`${base}/api/prometheus/query?query=up`, { method: 'POST' })).status, 405);
    assert.equal((await fetch(`${base}/api/trace/not-hex`)).status, 404);
    assert.equal((await fetch(`${base}/api/trace/abc`)).status, 502, 'a trace by id with Jaeger down');
    const down = await fetch(`${base}/api/jaeger/services`);
    assert.equal(down.status, 502);
    assert.match(((await down.json()) as { detail: string }).detail, /ECONNREFUSED/);
    assert.equal((await fetch(`${base}/api/logs?query=`)).status, 400, 'an empty LogsQL query');
    assert.equal((await fetch(`${base}/api/try/edge`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' })).status, 415);
    // Runbooks by name only; the web app missing is said, not a crash; no path leaves the app's folder.
    assert.equal((await fetch(`${base}/runbooks/HighErrorRatio.md`)).status, 200);
    assert.equal((await fetch(`${base}/runbooks/Nothing.md`)).status, 404);
    assert.equal((await fetch(`${base}/`)).status, 503);
    assert.equal((await fetch(`${base}/..%2f..%2fpackage.json`)).status, 503);
    assert.equal((await fetch(`${base}/%E0%A4%A`)).status, 400, 'a malformed percent-encoding');
    assert.equal((await fetch(`${base}/healthz`)).status, 200, 'still serving');
  });

  test('binds 127.0.0.1 only by default', async () => {
    const port = new URL(base).port;
    const addrs = readFileSync('/proc/net/tcp', 'utf8');
    const hex = Number(port).toString(16).toUpperCase().padStart(4, '0');
    const listening = addrs.split('\n').filter((l) => l.includes(`:${hex} `) && / 0A /.test(l));
    assert.ok(listening.length > 0, 'listening');
    assert.ok(listening.every((l) => l.trim().split(/\s+/)[1].startsWith('0100007F:')), `bound to 127.0.0.1 only: ${listening.join('\n')}`);
  });
});
