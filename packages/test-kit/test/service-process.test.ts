// ServiceProcess.start on a real service that never turns ready: it fails, and the process is gone
// (a child left running would keep the test runner alive after its last test).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ServiceProcess } from '../src/service-process';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

test('a service that never answers its ready path is stopped when start() gives up', async () => {
  const proc = new ServiceProcess({ folder: 'service-b', name: 'service-b', telemetry: false, readyPath: '/no-such-path' });
  await assert.rejects(proc.start(3_000), /service-b not ready at \/no-such-path/);
  assert.ok(proc.pid, 'it was started');
  assert.equal(alive(proc.pid!), false, `pid ${proc.pid} is still running`);
});
