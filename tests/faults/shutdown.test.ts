import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { newTraceparent, OtlpReceiver, otlpTracingEnv, REPO_ROOT, request, ServiceProcess } from '@meridian/test-kit';

function fault(file: string, ...args: string[]): void {
  execFileSync(process.execPath, [path.join(REPO_ROOT, 'scripts/fault.mjs'), ...args, '--file', file], { stdio: 'pipe' });
}

interface Call {
  traceId: string;
  startedAt: number;
  endedAt: number;
  status?: number;
  error?: string;
}

/**
 * One GET on a fresh connection (no keep-alive), so a refused connection after the listener closed
 * is told apart from a request that was accepted and then lost.
 */
function call(url: string): Promise<Call> {
  const { traceparent, traceId } = newTraceparent();
  const startedAt = Date.now();
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false, headers: { traceparent }, timeout: 15_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve({ traceId, startedAt, endedAt: Date.now(), status: res.statusCode }));
      res.on('error', (err: NodeJS.ErrnoException) => resolve({ traceId, startedAt, endedAt: Date.now(), error: err.code ?? err.message }));
    });
    req.on('timeout', () => req.destroy(new Error('client timeout')));
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ traceId, startedAt, endedAt: Date.now(), error: err.code ?? err.message }));
  });
}

describe('graceful shutdown on SIGTERM', { timeout: 90_000 }, () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'meridian-shutdown-'));
  const flags = path.join(dir, 'flags.json');
  const receiver = new OtlpReceiver();
  let otlp: string;

  before(async () => {
    copyFileSync(path.join(REPO_ROOT, 'observability/flags/flags.json'), flags);
    // Every request to service-b takes a second: SIGTERM always finds some in flight.
    fault(flags, 'service-b', 'latency-ms', 'on', '1000');
    otlp = await receiver.start();
  });

  after(async () => {
    await receiver.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const start = (env: Record<string, string>) =>
    new ServiceProcess({
      folder: 'service-b',
      name: 'service-b',
      env: {
        FLAGS_FILE: flags,
        // A long schedule delay on purpose: only the shutdown flush can deliver the last spans in time.
        ...otlpTracingEnv(otlp, { scheduleDelayMs: 30_000 }),
        ...env,
      },
    }).start();

  test('under load: readiness fails first, in-flight requests complete, every answered request has its span, exit 0 within the bound', async () => {
    const b = await start({ SHUTDOWN_DRAIN_MS: '400', SHUTDOWN_TIMEOUT_MS: '8000' });
    const calls: Promise<Call>[] = [];
    let loading = true;
    const loops = Array.from({ length: 6 }, async (_, i) => {
      await new Promise((r) => setTimeout(r, i * 150));
      while (loading) {
        const c = call(b.url + '/data');
        calls.push(c);
        const done = await c;
        if (done.error) await new Promise((r) => setTimeout(r, 50));
      }
    });
    await new Promise((r) => setTimeout(r, 1600));
    const sigtermAt = Date.now();
    const stopped = b.stop('SIGTERM');
    await new Promise((r) => setTimeout(r, 150));
    const ready = await request(b.url + '/ready', {}, 2000);
    await stopped;
    loading = false;
    await Promise.all(loops);
    const results = await Promise.all(calls);

    assert.equal(ready.status, 503, 'readiness fails as soon as SIGTERM arrives, while still serving');
    assert.equal(b.exitCode, 0);
    const stoppedLine = b.logs().find((l) => /stopped after SIGTERM in \d+ ms/.test(String(l.msg)));
    assert.ok(stoppedLine, 'logs how long the shutdown took');
    const tookMs = Number(/in (\d+) ms/.exec(String(stoppedLine.msg))![1]);

    const answered = results.filter((r) => r.status !== undefined);
    const inFlight = answered.filter((r) => r.startedAt < sigtermAt && r.endedAt > sigtermAt);
    const lost = results.filter((r) => r.error && r.error !== 'ECONNREFUSED');
    console.log(
      `SIGTERM with load: ${answered.length} answered (${inFlight.length} of them in flight at SIGTERM), ` +
        `${results.length - answered.length} refused after close, ${lost.length} lost; shutdown took ${tookMs} ms`,
    );
    assert.deepEqual(lost, [], 'no accepted request lost its connection');
    assert.ok(inFlight.length >= 3, 'requests were in flight at SIGTERM');
    for (const r of answered) assert.equal(r.status, 200);
    assert.ok(tookMs < 8000);
    // The last spans left in the batch processor were flushed before the exit.
    const missing = answered.filter((r) => !receiver.trace(r.traceId).some((s) => s.service === 'service-b' && s.kind === 2));
    assert.deepEqual(missing.map((r) => r.traceId), [], 'every answered request has its server span exported');
  });

  test('a request slower than SHUTDOWN_TIMEOUT_MS: the process gives up at the bound, exit 1, and says so', async () => {
    fault(flags, 'service-b', 'latency-ms', 'on', '20000');
    const b = await start({ SHUTDOWN_TIMEOUT_MS: '1500', FLAGS_POLL_MS: '100' });
    try {
      const slow = call(b.url + '/data');
      await new Promise((r) => setTimeout(r, 300));
      const started = Date.now();
      await b.stop('SIGTERM');
      const took = Date.now() - started;
      assert.equal(b.exitCode, 1);
      assert.ok(took >= 1400 && took < 4000, `exited after ${took} ms`);
      assert.ok(b.logs().some((l) => /longer than 1500 ms/.test(String(l.msg))));
      await slow;
    } finally {
      fault(flags, 'service-b', 'latency-ms', 'off');
    }
  });
});
