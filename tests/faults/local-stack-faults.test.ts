// Faults flipped with `npm run fault` in the stack `npm start` runs: the symptom shows up in the
// real pipeline (the delayed span in Jaeger with its meridian.fault.* attribute), a crash fault
// makes the runner restart the service until the fault is off, and then all is well again.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { LocalStack, REPO_ROOT, request } from '@meridian/test-kit';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('faults in the local stack (npm start + npm run fault)', { timeout: 240_000 }, () => {
  let stack: LocalStack;

  /** `npm run fault -- ...` as a user types it, finding the run folder from MERIDIAN_RUN_DIR. */
  const fault = (...args: string[]) => {
    const r = spawnSync(process.execPath, [path.join(REPO_ROOT, 'scripts/fault.mjs'), ...args], {
      encoding: 'utf8',
      env: { ...process.env, MERIDIAN_RUN_DIR: stack.summary.runDir },
    });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout;
  };

  before(async () => {
    stack = await LocalStack.start();
  });

  after(async () => {
    await stack?.stop();
  });

  test('npm start prints how to flip a fault and where the flag file is', () => {
    const flagsFile = path.join(stack.summary.runDir, 'flags.json');
    assert.ok(stack.output.some((l) => l.includes('npm run fault --')), 'the ready message shows the command');
    assert.ok(stack.output.some((l) => l.includes(flagsFile)), 'and the flag file');
    assert.match(fault('list'), /0 on; file /);
  });

  test('latency on service-b: slow answers, and the span in Jaeger says why', async () => {
    fault('service-b', 'latency-ms', 'on', '600');
    try {
      let tookMs = 0;
      for (let i = 0; i < 40 && tookMs < 590; i++) {
        const started = Date.now();
        assert.equal((await request(stack.url('service-b') + '/data')).status, 200);
        tookMs = Date.now() - started;
        if (tookMs < 590) await sleep(100);
      }
      assert.ok(tookMs >= 590, `service-b answered in ${tookMs} ms`);
      const query = `${stack.url('jaeger')}/api/traces?service=service-b&limit=20&tags=${encodeURIComponent(JSON.stringify({ 'meridian.fault.latency': '600' }))}`;
      let found = 0;
      for (let i = 0; i < 60 && found === 0; i++) {
        const res = await request(query);
        found = (res.json?.data ?? []).length;
        if (!found) await sleep(250);
      }
      assert.ok(found > 0, 'a service-b trace in Jaeger carries meridian.fault.latency=600');
    } finally {
      fault('service-b', 'latency-ms', 'off');
    }
  });

  test('crash on service-b: it exits and the runner restarts it; off, service-a calls it again', async () => {
    const before = stack.output.length;
    fault('service-b', 'crash', 'on');
    const exited = () => stack.output.slice(before).some((l) => /service-b\s+│ exited \(code 1\)/.test(l));
    for (let i = 0; i < 100 && !exited(); i++) await sleep(100);
    assert.ok(exited(), `service-b exited:\n${stack.tail(20)}`);
    const down = await request(stack.url('service-a') + '/call-service-b');
    assert.ok([502, 503].includes(down.status), `service-a answers ${down.status} while service-b is down`);
    fault('service-b', 'crash', 'off');
    const offAt = Date.now();
    let status = 0;
    while (Date.now() - offAt < 40_000) {
      status = (await request(stack.url('service-a') + '/call-service-b')).status;
      if (status === 200) break;
      await sleep(250);
    }
    const restarts = stack.output.slice(before).filter((l) => /service-b\s+│ restarting in/.test(l)).length;
    console.log(`crash fault: ${restarts} restart(s) by the runner; service-a got 200 again ${Date.now() - offAt} ms after the fault was off`);
    assert.equal(status, 200);
    assert.ok(restarts >= 1);
  });
});
